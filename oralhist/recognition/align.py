"""Re-align edited text to the recognised words, so that timings survive editing.

The editor (or an imported Word/text/VTT file) gives new segment texts; the previous
version gives words with times. Both sides are cut into whitespace tokens and aligned on
normalised tokens (case, punctuation and apostrophe variants ignored; accents kept) with
the longest-common-subsequence edit script (``rapidfuzz`` Indel opcodes, bit-parallel,
~0.1 s for an hour): it keeps as many recognised words as possible, so

- an unchanged token keeps its recognised word(s) exactly: same text, same start and end;
- a token that only differs by case or punctuation keeps the times of the word it replaces;
- changed or inserted tokens get times interpolated inside the span of the words they
  replace, or inside the gap between their neighbours (proportional to their length);
- deleted words vanish;
- inserted tokens with no room at all (no gap between neighbours) get a zero-length time
  at the boundary and are reported as *unplaced*.

The alignment is global (over the whole transcript), so splitting, merging, reordering
text between segments and moving words to another segment are all handled: a segment's
start and end are those of its first and last placed word.

Pure functions over small dataclasses; no database here (``oralhist.editorial.corrections`` saves).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import NamedTuple, Optional, Sequence


class AWord(NamedTuple):
    """A word with its time on the interview's timeline (ms). A named tuple, not a frozen
    dataclass: a save at the bound reads 200,000 of them and a tuple is made 3 times faster."""

    start_ms: int
    end_ms: int
    text: str
    probability: Optional[float] = None


@dataclass(frozen=True)
class OldSegment:
    """A segment of the version being corrected, with its recognised words."""

    start_ms: int
    end_ms: int
    text: str
    words: tuple[AWord, ...] = ()
    speaker_id: Optional[int] = None


@dataclass(frozen=True)
class NewSegment:
    """A segment as the editor (or an imported file) gives it: text, speaker, maybe a time hint."""

    text: str
    speaker_id: Optional[int] = None
    start_hint_ms: Optional[int] = None  # from a timestamp in an imported file (used when nothing aligns)


@dataclass(frozen=True)
class AlignedSegment:
    start_ms: int
    end_ms: int
    text: str
    words: tuple[AWord, ...]
    speaker_id: Optional[int] = None


@dataclass
class AlignStats:
    kept: int = 0  # recognised words kept with their exact times
    retimed: int = 0  # tokens that only changed case/punctuation (times of the word they replace)
    changed: int = 0  # tokens replacing other words (times interpolated in their span)
    inserted: int = 0  # new tokens (times interpolated in the gap between neighbours)
    deleted: int = 0  # recognised words removed
    unplaced: list[str] = field(default_factory=list)  # tokens given a zero-length time (no room)
    changes: list[dict] = field(default_factory=list)  # first edits: {"before", "after", "at_ms"}

    def to_dict(self) -> dict:
        return {
            "kept": self.kept,
            "retimed": self.retimed,
            "changed": self.changed,
            "inserted": self.inserted,
            "deleted": self.deleted,
            "unplaced": list(self.unplaced),
            "changes": list(self.changes),
        }


@dataclass(frozen=True)
class AlignResult:
    segments: tuple[AlignedSegment, ...]
    stats: AlignStats


MAX_CHANGES_LISTED = 50

_APOS = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "\u00a0": " ", "\u202f": " "})
_SPACES = {0xA0: 32, 0x202F: 32}
_PUNCT = re.compile(r"[^\w']+", re.UNICODE)
_GLUE_START = ("'", "’", "-", ")", "]", "»", ",", ".", ";", ":", "!", "?", "…", "%")


def norm(token: str) -> str:
    """Normalised form used to compare tokens: NFC, lower case, apostrophes unified, no punctuation."""
    t = unicodedata.normalize("NFC", token).translate(_APOS).lower()
    t = _PUNCT.sub("", t).strip("'")
    return t or token.strip()


def tokenize(text: str) -> list[str]:
    """Whitespace tokens of an edited text (NFC; non-breaking spaces are spaces).

    A token that starts with an apostrophe ("d 'accord", as some subtitle exports write
    Whisper's pieces) is glued back to the token before it.
    """
    parts = unicodedata.normalize("NFC", text).translate(_SPACES).split()
    if "'" not in text and "’" not in text:
        return parts  # nothing to glue (most segments)
    out: list[str] = []
    for t in parts:
        if out and len(t) > 1 and t[0] in "'’" and t[1].isalpha():
            out[-1] += t
        else:
            out.append(t)
    return out


def group_units(words: Sequence[AWord]) -> list[tuple[str, list[AWord]]]:
    """Recognised words grouped into whitespace tokens.

    faster-whisper gives sub-word pieces ("d" + "'accord", "États" + "-Unis,"); a piece that
    does not begin with a space is glued to the previous one when the texts keep their
    leading spaces, else when it begins with an apostrophe, hyphen or punctuation mark.
    """
    raw = any(w.text[:1].isspace() for w in words)
    if raw and all(w.text[:1] == " " and w.text[1:2] and not w.text[1:2].isspace() for w in words):
        # the common case (one unit per word: a space, then a word): no gluing to decide
        return [(w.text.strip(), [w]) for w in words]
    units: list[tuple[str, list[AWord]]] = []
    for w in words:
        t = w.text
        st = t.strip()
        if not st:
            continue
        if units:
            if raw:
                glue = not t[:1].isspace()
            else:
                glue = t.startswith(_GLUE_START) or units[-1][0].endswith(("'", "’"))
            if glue:
                text, members = units[-1]
                members.append(w)  # the list is this unit's own
                units[-1] = (text + st, members)
                continue
        units.append((st, [w]))
    return units


def words_of_segment(seg: OldSegment) -> tuple[AWord, ...]:
    """The segment's words, or (no word timings stored) its tokens spread over its span."""
    if seg.words:
        return seg.words
    toks = tokenize(seg.text)
    return tuple(_spread(toks, seg.start_ms, seg.end_ms, None))


def _spread(tokens: Sequence[str], start: int, end: int, prob: Optional[float]) -> list[AWord]:
    """Tokens placed one after another in [start, end], each getting time in proportion to its length."""
    if not tokens:
        return []
    end = max(end, start)
    weights = [len(t) + 1 for t in tokens]
    total = sum(weights)
    out, acc = [], 0
    for t, w in zip(tokens, weights):
        s = start + (end - start) * acc // total
        acc += w
        e = start + (end - start) * acc // total
        out.append(AWord(int(s), int(e), t, prob))
    return out


# rapidfuzz keeps a bit matrix of len(a) x len(b) bits for the edit script: 5 GB for two
# 200,000-word versions. Up to this many cells (~50 MB) the whole transcript is aligned at once;
# beyond, window by window (``_windowed_opcodes``).
MAX_CELLS = 400_000_000
WINDOW = 4_096
MAX_WINDOW = 16_384  # 32 MB of bits


def opcodes(a: Sequence[str], b: Sequence[str]) -> list[tuple[str, int, int, int, int]]:
    """(tag, a0, a1, b0, b1) of an LCS edit script of ``a`` into ``b`` (tag "equal" or not), in
    bounded memory: rapidfuzz's Indel opcodes over the whole lists when they are small enough,
    else over windows that follow the alignment (an edit is local: each window's script is kept
    up to its last common run well inside the window, and the next window starts there)."""
    from rapidfuzz.distance import Indel

    if len(a) * len(b) <= MAX_CELLS:
        return [(op.tag, op.src_start, op.src_end, op.dest_start, op.dest_end) for op in Indel.opcodes(a, b)]
    out: list[tuple[str, int, int, int, int]] = []
    n, m, i, j = len(a), len(b), 0, 0
    grams = None
    while i < n and j < m:
        k = 0
        while i + k < n and j + k < m and a[i + k] == b[j + k]:
            k += 1
        if k:
            out.append(("equal", i, i + k, j, j + k))
            i, j = i + k, j + k
            continue
        w = WINDOW
        while True:
            ae, be = min(n, i + w), min(m, j + w)
            ops = [(op.tag, op.src_start + i, op.src_end + i, op.dest_start + j, op.dest_end + j)
                   for op in Indel.opcodes(a[i:ae], b[j:be])]
            if ae == n and be == m:
                out.extend(ops)
                i, j = n, m
                break
            # keep the script up to its last common run of ANCHOR tokens or more that ends well
            # inside the window, if at least half of what it covers (the shorter side) is common:
            # a window cut across a long deletion only matches common words by chance
            margin = w // 4
            cut = next((x for x in range(len(ops) - 1, -1, -1) if ops[x][0] == "equal"
                        and ops[x][2] - ops[x][1] >= ANCHOR and ops[x][2] <= ae - margin and ops[x][4] <= be - margin),
                       None)
            if cut is not None:
                same = sum(o[2] - o[1] for o in ops[:cut + 1] if o[0] == "equal")
                if same >= 0.5 * min(ops[cut][2] - i, ops[cut][4] - j):
                    out.extend(ops[:cut + 1])
                    i, j = ops[cut][2], ops[cut][4]
                    break
            if w < MAX_WINDOW:
                w *= 2
                continue
            # nothing in common over a whole window (a long passage cut or pasted): go on from
            # the nearest run of ANCHOR tokens found on both sides; what lies before it is replaced
            if grams is None:
                grams = {}
                for q in range(m - ANCHOR + 1):
                    grams.setdefault(hash(tuple(b[q:q + ANCHOR])), []).append(q)
            pa, pb = _anchor(a, b, i, j, grams)
            out.append(("replace", i, pa, j, pb))
            i, j = pa, pb
            break
    if i < n:
        out.append(("delete", i, n, j, j))
    if j < m:
        out.append(("insert", i, i, j, m))
    return out


ANCHOR = 6


def _anchor(a, b, i: int, j: int, grams: dict) -> tuple[int, int]:
    """The nearest (pa >= i, pb >= j) where ANCHOR tokens are the same on both sides (smallest
    pa - i + pb - j), or the ends of both lists."""
    import bisect

    best, at = None, (len(a), len(b))
    for pa in range(i, len(a) - ANCHOR + 1):
        if best is not None and pa - i >= best:
            break
        key = tuple(a[pa:pa + ANCHOR])
        pos = grams.get(hash(key))
        if not pos:
            continue
        k = bisect.bisect_left(pos, j)
        while k < len(pos) and tuple(b[pos[k]:pos[k] + ANCHOR]) != key:
            k += 1
        if k < len(pos) and (best is None or pa - i + pos[k] - j < best):
            best, at = pa - i + pos[k] - j, (pa, pos[k])
    return at


# Over 80 lines on purpose: one alignment algorithm (units, Indel opcodes, times for replaced and inserted
# words) whose steps share the same index arrays.
def realign(old: Sequence[OldSegment], new: Sequence[NewSegment]) -> AlignResult:
    """Align the new segments' text to the old segments' words; see the module docstring."""
    # Old side: units (whitespace tokens) with their member words, in time order.
    units: list[tuple[str, list[AWord]]] = []
    for seg in old:
        units.extend(group_units(words_of_segment(seg)))
    # New side: tokens, remembering their segment.
    toks: list[str] = []
    tok_seg: list[int] = []
    seg_toks = [tokenize(seg.text) for seg in new]
    for i, st in enumerate(seg_toks):
        toks.extend(st)
        tok_seg.extend([i] * len(st))

    seen: dict[str, str] = {}  # a transcript says the same few thousand words again and again

    def normed(t: str) -> str:
        n = seen.get(t)
        if n is None:
            n = seen[t] = norm(t)
        return n

    a = list(map(normed, [u[0] for u in units]))
    b = list(map(normed, toks))
    stats = AlignStats()
    placed: list[Optional[list[AWord]]] = [None] * len(toks)  # words for each new token

    raw = any(w.text[:1].isspace() for u in units for w in u[1])  # words keep their leading space
    lead = " " if raw else ""
    blocks: list[list[int]] = []  # consecutive non-equal runs merged: [a0, a1, b0, b1]
    for tag, a0, a1, b0, b1 in opcodes(a, b):
        if tag == "equal":
            if toks[b0:b1] == [u[0] for u in units[a0:a1]]:  # the usual case: all kept
                members = [u[1] for u in units[a0:a1]]
                placed[b0:b1] = members  # (each unit's own list; nothing changes them)
                stats.kept += sum(map(len, members))
                continue
            for k in range(a1 - a0):
                text, members = units[a0 + k]
                tok = toks[b0 + k]
                if tok == text:
                    placed[b0 + k] = list(members)
                    stats.kept += len(members)
                else:  # same word, other case or punctuation: keep its times, take the new text
                    probs = [m.probability for m in members if m.probability is not None]
                    placed[b0 + k] = [AWord(members[0].start_ms, members[-1].end_ms, lead + tok, min(probs) if probs else None)]
                    stats.retimed += 1
        elif blocks and blocks[-1][1] == a0 and blocks[-1][3] == b0:
            blocks[-1][1], blocks[-1][3] = a1, b1
        else:
            blocks.append([a0, a1, b0, b1])

    for a0, a1, b0, b1 in blocks:
        new_toks = toks[b0:b1]
        old_units = units[a0:a1]
        n_old_words = sum(len(u[1]) for u in old_units)
        _note(stats, old_units, new_toks, old_units[0][1][0].start_ms if old_units else _gap(units, a0, 1, new, tok_seg[b0] if new_toks else 0)[0])
        if not new_toks:  # deleted words vanish
            stats.deleted += n_old_words
            continue
        if old_units and len(old_units) == len(new_toks):  # word for word: each takes the times of the one it replaces
            stats.changed += len(new_toks)
            for k, (tok, (_, members)) in enumerate(zip(new_toks, old_units)):
                placed[b0 + k] = [AWord(members[0].start_ms, members[-1].end_ms, lead + tok, None)]
            continue
        if old_units:  # n words for m: spread over the span of the replaced words
            span_s = old_units[0][1][0].start_ms
            span_e = max(span_s, old_units[-1][1][-1].end_ms)
            stats.changed += min(len(new_toks), len(old_units))
            stats.inserted += max(0, len(new_toks) - len(old_units))
            stats.deleted += max(0, len(old_units) - len(new_toks))
        else:  # inserted: the gap between the old words around the insertion point
            starts_segment = b0 == 0 or tok_seg[b0 - 1] != tok_seg[b0]
            span_s, span_e = _gap(units, a0, len(new_toks), new, tok_seg[b0], before_next=starts_segment)
            stats.inserted += len(new_toks)
            if span_e <= span_s:
                stats.unplaced.extend(new_toks)
        for k, w in enumerate(_spread(new_toks, span_s, span_e, None)):
            placed[b0 + k] = [AWord(w.start_ms, w.end_ms, lead + w.text, None)]

    # Build the segments.
    out: list[AlignedSegment] = []
    t1 = 0
    for i, seg in enumerate(new):
        t0, t1 = t1, t1 + len(seg_toks[i])  # this segment's tokens: placed[t0:t1]
        words = [w for p in placed[t0:t1] if p for w in p]
        if words:
            start, end = words[0].start_ms, words[-1].end_ms
        else:  # an empty segment keeps a point in time between its neighbours
            start = end = seg.start_hint_ms if seg.start_hint_ms is not None else (out[-1].end_ms if out else 0)
        out.append(AlignedSegment(start, max(end, start), " ".join(seg_toks[i]), tuple(words), seg.speaker_id))
    return AlignResult(tuple(out), stats)


def _note(stats: AlignStats, old_units, new_toks, at_ms: int) -> None:
    if len(stats.changes) < MAX_CHANGES_LISTED:
        stats.changes.append({"before": " ".join(u[0] for u in old_units), "after": " ".join(new_toks), "at_ms": at_ms})


MAX_MS_PER_INSERTED_TOKEN = 600  # a word said in a long silence is placed next to its neighbour


def _gap(units, a0: int, n: int, new, seg_i: int, before_next: bool = False) -> tuple[int, int]:
    """Where ``n`` tokens inserted before old unit ``a0`` go: just after the previous word, or (at the
    start of a segment) just before the next one; never more than MAX_MS_PER_INSERTED_TOKEN each."""
    room = n * MAX_MS_PER_INSERTED_TOKEN
    if not units:  # nothing recognised: use the imported file's timestamps, if any
        hint = new[seg_i].start_hint_ms
        nxt = next((s.start_hint_ms for s in new[seg_i + 1:] if s.start_hint_ms is not None), None)
        if hint is None:
            return 0, 0
        return hint, min(nxt, hint + room) if nxt is not None and nxt > hint else hint + room
    if a0 == 0:
        e = units[0][1][0].start_ms
        return max(0, e - room), e
    s = units[a0 - 1][1][-1].end_ms
    if a0 >= len(units):  # after the last recognised word
        return s, s + room
    e = units[a0][1][0].start_ms
    if e <= s:
        return s, s
    return (max(s, e - room), e) if before_next else (s, min(e, s + room))
