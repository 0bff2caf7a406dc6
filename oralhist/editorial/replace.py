"""Replace everywhere: find a word or phrase in one interview, a museum's or all, preview, apply, undo (issue 23).

Finding folds case and accents (« roube » finds « Roubé, »), matches whole words only, and a
phrase's words across any run of spaces, inside one segment. Replacing writes the replacement
as typed, except that an occurrence that begins with a capital (start of a sentence) gets a
capital first letter, and one written all in capitals gets capitals.

Applying makes one new version per interview touched (``source`` ``replace``, a ``Revision``
noted « remplacement : A → B »), word times kept by ``recognition.align.realign`` as for an
editor's save, all in ONE transaction with a ``ReplaceBatch`` row: a conflict (a version newer
than the one previewed) or any error leaves every interview as it was. ``undo_replace`` puts
back, as new versions, the versions the batch replaced, also all or nothing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Iterable, Optional, Sequence

from oralhist.errors import BadInput, ConflictError, NotFound

MAX_TERM_CHARS = 200  # a phrase; 10,000 characters is a pasted paragraph, not a name
CONTEXT_CHARS = 60
MAX_PREVIEW = 5_000  # occurrences listed; applying still reaches every one
SOURCE = "replace"


@dataclass(frozen=True)
class Occurrence:
    key: str  # "<interview>:<version>:<segment idx>:<char offset>" — what a preview ticks or unticks
    interview: str
    version: int
    segment: int
    start_ms: int
    end_ms: int
    before: str
    match: str
    after: str
    replacement: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Found:
    find: str
    replace: str
    occurrences: list[Occurrence] = field(default_factory=list)
    total: int = 0
    versions: dict = field(default_factory=dict)  # interview -> version searched (the conflict rule's base)
    interviews_searched: int = 0

    def to_dict(self) -> dict:
        return {"find": self.find, "replace": self.replace, "total": self.total,
                "interviews": len({o.interview for o in self.occurrences}) if self.total <= MAX_PREVIEW else None,
                "interviews_searched": self.interviews_searched, "versions": self.versions,
                "occurrences": [o.to_dict() for o in self.occurrences]}


@dataclass
class Applied:
    batch: Optional[int]
    find: str
    replace: str
    items: list = field(default_factory=list)  # {interview, base, version, count}

    def to_dict(self) -> dict:
        return {"batch": self.batch, "find": self.find, "replace": self.replace,
                "replaced": sum(i["count"] for i in self.items), "interviews": len(self.items), "items": self.items}


# ---------------------------------------------------------------------------- matching

_FOLD_CACHE: dict[str, str] = {}


def _fold_char(c: str) -> str:
    f = _FOLD_CACHE.get(c)
    if f is None:
        t = unicodedata.normalize("NFKD", {"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "’": "'", "‘": "'"}.get(c, c))
        f = _FOLD_CACHE[c] = "".join(x for x in t if not unicodedata.combining(x)).casefold()
    return f


def fold_text(text: str) -> str:
    return "".join(_fold_char(c) for c in text)


def _fold_mapped(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each folded character, the index of the original one."""
    out, where = [], []
    for i, c in enumerate(text):
        f = _fold_char(c)
        out.append(f)
        where.extend([i] * len(f))
    return "".join(out), where


def check_terms(find: str, replacement: str) -> None:
    """``BadInput`` (one line, nothing done) for a find/replace pair that cannot be used."""
    from oralhist.textsafe import has_control

    if find is None or not find.strip():
        raise BadInput("find", "empty; give the word or phrase to find")
    for name, v in (("find", find), ("replace", replacement)):
        if len(v) > MAX_TERM_CHARS:
            raise BadInput(name, f"too long ({len(v)} characters, at most {MAX_TERM_CHARS}); give a word or a phrase")
        if has_control(v):
            raise BadInput(name, "contains control characters")
    if not re.search(r"\w", find):
        raise BadInput("find", "only spaces or punctuation; give a word or phrase")
    if replacement.strip() and not re.search(r"\w", replacement):
        raise BadInput("replace", "only spaces or punctuation; give a word or phrase (or nothing, to delete)")
    if " ".join(find.split()) == " ".join(replacement.split()):
        raise BadInput("replace", "the same as the text to find; nothing to change")


def pattern(find: str) -> "re.Pattern":
    """Whole words of the folded ``find``, any run of spaces between its words."""
    toks = [re.escape(t) for t in fold_text(" ".join(find.split())).split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(toks) + r"(?!\w)")


def cased(replacement: str, occurrence: str) -> str:
    """The replacement as typed; capitalised like an occurrence that starts a sentence or shouts."""
    if not replacement:
        return replacement
    letters = [c for c in occurrence if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return replacement.upper()
    if occurrence[:1].isupper() and replacement[:1].islower():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def find_in_text(pat: "re.Pattern", text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of ``text`` (original) where the folded pattern matches."""
    # most segments hold no match: a C-speed look for the pattern's plain pieces first (accents
    # dropped by NFKD + ASCII; every character whose fold is ASCII keeps its letters)
    quick = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae")
                                  .replace("Æ", "AE")).encode("ascii", "ignore").decode().casefold()
    if not all(t in quick for t in _literal_parts(pat)):
        return []
    folded, where = _fold_mapped(text)
    spans = []
    for m in pat.finditer(folded):
        a = where[m.start()]
        b = where[m.end() - 1] + 1
        spans.append((a, b))
    return spans


_PARTS: dict = {}


def _literal_parts(pat) -> tuple:
    """Pieces of plain text of a pattern, for the cheap first look (unaccented letters only)."""
    p = _PARTS.get(pat.pattern)
    if p is None:
        words = re.findall(r"[a-z0-9]{3,}", re.sub(r"\\.", " ", pat.pattern.replace("(?<!\\w)", "").replace("(?!\\w)", "")))
        p = _PARTS[pat.pattern] = tuple(words) or ("",)
    return p


# ---------------------------------------------------------------------------- reading


def scope_ids(s, *, interview: Optional[str] = None, museum: Optional[str] = None, everything: bool = False,
              museum_id: Optional[int] = None) -> list[str]:
    """Interview ids of one scope: one interview, one museum (by name or id), or the whole archive."""
    from sqlmodel import select

    from oralhist.records import Interview, Museum

    if sum(x is not None and x is not False for x in (interview, museum, museum_id, everything or None)) != 1:
        raise BadInput("scope", "give exactly one of --interview ID, --museum NAME or --all")
    if interview is not None:
        if s.get(Interview, interview) is None:
            raise NotFound(interview, "no such interview")
        return [interview]
    if museum is not None:
        m = s.exec(select(Museum).where(Museum.name == museum)).first()
        if m is None:
            raise NotFound(museum, "no such museum")
        museum_id = m.id
    q = select(Interview.id)
    if museum_id is not None:
        q = q.where(Interview.museum_id == museum_id)
    return sorted(s.exec(q).all())


def latest_versions(s, ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """interview -> (transcript id, version) of its newest version (what editors edit)."""
    from sqlalchemy import func
    from sqlmodel import select

    from oralhist.records import Transcript

    out: dict[str, tuple[int, int]] = {}
    for k in range(0, len(ids), 500):
        chunk = list(ids[k:k + 500])
        newest = (select(Transcript.interview_id, func.max(Transcript.version).label("v"))
                  .where(Transcript.interview_id.in_(chunk)).group_by(Transcript.interview_id).subquery())
        rows = s.exec(select(Transcript.interview_id, Transcript.id, Transcript.version)
                      .join(newest, (Transcript.interview_id == newest.c.interview_id)
                            & (Transcript.version == newest.c.v))).all()
        out.update({iid: (tid, v) for iid, tid, v in rows})
    return out


def _segments(s, tids: Sequence[int]):
    """(transcript id, idx, start_ms, end_ms, text) of these transcripts' segments, by the driver's rows."""
    from sqlmodel import select

    from oralhist.records import Segment

    for k in range(0, len(tids), 200):
        yield from s.exec(select(Segment.transcript_id, Segment.idx, Segment.start_ms, Segment.end_ms, Segment.text)
                          .where(Segment.transcript_id.in_(list(tids[k:k + 200])))
                          .order_by(Segment.transcript_id, Segment.idx)).all()


# The SQLite prefilter (issue 23, replace --all over 1,000 hours): the FTS5 index of segments
# (migration 0401, unicode61 folding case and accents) names the segments holding the find's
# folded words; the regex then decides on those alone. unicode61 folds a few characters less
# than ``fold_text`` does (œ → oe, æ, ß, ligatures, superscripts…): the segments holding one of
# those whose fold is part of the find are read too (an instr() scan in C). A find with any other
# character outside the plain set (fullwidth or mathematical letters…) reads every segment.
_PLAIN_SET = ("\t -~\u00a0-\u00a9\u00ab-\u00b1\u00b4\u00b6-\u00b8\u00bb\u00bf-\u00c5\u00c7-\u00de"
              "\u00e0-\u00e5\u00e7-\u00ff\u2009\u2013\u2014\u2018\u2019\u201c\u201d\u2026\u202f"
              "\u0152\u0153")
_PLAIN = re.compile(f"[{_PLAIN_SET}]*")
_FOLDS_MORE = "œŒæÆßﬀﬁﬂﬃﬄﬅﬆ¹²³ªºſĲĳ"  # unicode61 keeps these as they are; fold_text does not
_FTS_NAMES = {"fts_segments", "fts_segments_ai", "fts_segments_ad", "fts_segments_au"}


def _fts_rows(s, find: str, tids: Sequence[int]):
    """Rows (segment id, transcript id, idx, start_ms, end_ms, text) of the segments that may hold
    ``find`` by the SQLite FTS5 index (of these transcripts, when they are few: one museum's), or
    None where it cannot decide (PostgreSQL, no index, a find with characters the index folds
    otherwise): then every segment is read."""
    conn = s.connection()
    folded = " ".join(fold_text(find).split())
    if conn.dialect.name != "sqlite" or not _PLAIN.fullmatch(find) or not re.search(r"[^\W_]", folded):
        return None
    have = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE name LIKE 'fts_segments%'")}
    if not _FTS_NAMES <= have:
        return None
    phrase = '"' + folded.replace('"', '""') + '"'
    odd = "".join(c for c in _FOLDS_MORE if fold_text(c) in folded)
    where = "(id IN (SELECT rowid FROM fts_segments WHERE fts_segments MATCH ?)" + " OR instr(text, ?) > 0" * len(odd) + ")"
    few = list(tids) if len(tids) <= 500 else []
    if few:
        where += f" AND transcript_id IN ({', '.join('?' * len(few))})"
    return conn.exec_driver_sql(
        f"SELECT id, transcript_id, idx, start_ms, end_ms, text FROM segment WHERE {where} ORDER BY transcript_id, idx",
        (phrase, *odd, *few)).fetchall()


def candidate_segments(s, find: str, tids: Sequence[int]):
    """(transcript id, idx, start_ms, end_ms, text) of these transcripts' segments that may hold
    ``find``: the FTS5 prefilter on SQLite, every segment elsewhere."""
    rows = _fts_rows(s, find, tids)
    if rows is None:
        yield from _segments(s, tids)
        return
    wanted = set(tids)
    for _sid, tid, idx, a_ms, b_ms, text in rows:
        if tid in wanted:
            yield tid, idx, a_ms, b_ms, text


def search(s, find: str, replacement: str, ids: Sequence[str], *, limit: int = MAX_PREVIEW) -> Found:
    """Every occurrence of ``find`` in the newest version of these interviews (``limit`` listed)."""
    check_terms(find, replacement)
    pat = pattern(find)
    latest = latest_versions(s, ids)
    by_tid = {tid: (iid, v) for iid, (tid, v) in latest.items()}
    found = Found(find, replacement, versions={iid: v for iid, (_, v) in latest.items()},
                  interviews_searched=len(latest))
    for tid, idx, a_ms, b_ms, text in candidate_segments(s, find, list(by_tid)):
        spans = find_in_text(pat, text)
        if not spans:
            continue
        iid, v = by_tid[tid]
        for a, b in spans:
            found.total += 1
            if len(found.occurrences) >= limit:
                continue
            ms = _time_in(a_ms, b_ms, len(text), a)
            found.occurrences.append(Occurrence(
                key=f"{iid}:{v}:{idx}:{a}", interview=iid, version=v, segment=idx, start_ms=ms,
                end_ms=_time_in(a_ms, b_ms, len(text), b), before=_ctx(text[:a], left=True), match=text[a:b],
                after=_ctx(text[b:], left=False), replacement=cased(replacement, text[a:b])))
    found.occurrences.sort(key=lambda o: (o.interview, o.segment, o.start_ms))
    return found


def _time_in(a_ms: int, b_ms: int, n: int, at: int) -> int:
    """A character's time inside its segment, in proportion (the play button starts a little before)."""
    return a_ms + (b_ms - a_ms) * at // max(1, n)


def _ctx(t: str, *, left: bool) -> str:
    if len(t) <= CONTEXT_CHARS:
        return t
    return "…" + t[-CONTEXT_CHARS:].split(" ", 1)[-1] if left else t[:CONTEXT_CHARS].rsplit(" ", 1)[0] + "…"


def preview(ws, find: str, replacement: str, *, interview: Optional[str] = None, museum: Optional[str] = None,
            everything: bool = False, museum_id: Optional[int] = None, limit: int = MAX_PREVIEW) -> Found:
    """``search`` in one scope (``oralhist replace --dry-run`` and the web preview)."""
    from oralhist import db

    check_terms(find, replacement)
    with db.session(ws) as s:
        ids = scope_ids(s, interview=interview, museum=museum, everything=everything, museum_id=museum_id)
        return search(s, find, replacement, ids, limit=limit)


# ---------------------------------------------------------------------------- writing


def replace_in(text: str, spans: Iterable[tuple[int, int]], replacement: str) -> str:
    out, last = [], 0
    for a, b in sorted(spans):
        out.append(text[last:a])
        out.append(cased(replacement, text[a:b]))
        last = b
    out.append(text[last:])
    return " ".join("".join(out).split())


def realign_changed(old: Sequence, changed: dict[int, str]):
    """``align.realign`` of a version whose segments ``changed`` (idx -> new text) alone differ: each
    changed segment is realigned on its own words, the others are kept as they are (a replace
    never moves text between segments; 0.2 s of CPU saved per hour of transcript)."""
    from oralhist.recognition.align import (AlignedSegment, AlignResult, AlignStats, NewSegment, group_units, realign,
                                            tokenize, words_of_segment)

    stats = AlignStats()
    segs = []
    for k, o in enumerate(old):
        if k not in changed:  # what realign makes of a segment whose every word is kept
            units = group_units(words_of_segment(o))
            toks = tokenize(o.text)
            if units and toks == [u[0] for u in units]:
                words = tuple(w for _, members in units for w in members)
                segs.append(AlignedSegment(words[0].start_ms, max(words[-1].end_ms, words[0].start_ms), " ".join(toks),
                                           words, o.speaker_id))
                stats.kept += len(words)
                continue
        one = realign([o], [NewSegment(changed.get(k, o.text), o.speaker_id)])
        segs.extend(one.segments)
        st = one.stats
        stats.kept += st.kept
        stats.retimed += st.retimed
        stats.changed += st.changed
        stats.inserted += st.inserted
        stats.deleted += st.deleted
        stats.unplaced.extend(st.unplaced)
        stats.changes.extend(st.changes[:max(0, 50 - len(stats.changes))])
    return AlignResult(tuple(segs), stats)


# Over 80 lines on purpose: the one transaction of a replace (checks, every interview's new version,
# the batch row), kept in one piece so that nothing can commit half of it.
def apply_replace(ws, find: str, replacement: str, *, who: str, interview: Optional[str] = None,
                  museum: Optional[str] = None, everything: bool = False, museum_id: Optional[int] = None,
                  versions: Optional[dict] = None, skip: Iterable[str] = (), only: Optional[Iterable[str]] = None,
                  ) -> Applied:
    """Replace every occurrence (less ``skip``, or only ``only``) as one new version per interview.

    ``versions`` (interview -> version previewed): an interview saved since is a ``ConflictError``
    and nothing at all is written. Without it, the newest versions read now are the base."""
    from oralhist import db
    from oralhist.editorial.corrections import SAVE_LOCK, commit_saved, no_cycle_collection, old_segments, write_version
    from oralhist.editorial.indexing import refresh_machine_text
    from oralhist.editorial.link import flag_changed_mentions
    from oralhist.records import ReplaceBatch, Revision, Transcript, utcnow

    check_terms(find, replacement)
    pat = pattern(find)
    skip = set(skip)
    only = set(only) if only is not None else None
    note = f"remplacement : {' '.join(find.split())} → {' '.join(replacement.split())}"
    applied = Applied(None, find, replacement)
    with SAVE_LOCK, no_cycle_collection(), db.session(ws) as s:
        ids = scope_ids(s, interview=interview, museum=museum, everything=everything, museum_id=museum_id)
        if versions is not None:
            unknown = set(versions) - set(ids)
            if unknown:
                raise BadInput("versions", f"interview {sorted(unknown)[0]} is not in this scope; nothing replaced")
            ids = [i for i in ids if i in versions]
        latest = latest_versions(s, ids)
        for iid, base in sorted((versions or {}).items()):
            have = latest.get(iid)
            if have is None or have[1] != int(base):
                raise ConflictError(iid, f"version {have[1] if have else '?'} of {iid} is newer than version {base} that was "
                                         "previewed; nothing replaced — preview again")
        by_tid = {tid: (iid, v) for iid, (tid, v) in latest.items()}
        texts: dict[int, dict[int, str]] = {}
        counts: dict[int, int] = {}
        for tid, idx, _a, _b, text in candidate_segments(s, find, list(by_tid)):
            iid, v = by_tid[tid]
            spans = [(a, b) for a, b in find_in_text(pat, text)
                     if f"{iid}:{v}:{idx}:{a}" not in skip and (only is None or f"{iid}:{v}:{idx}:{a}" in only)]
            if spans:
                texts.setdefault(tid, {})[idx] = replace_in(text, spans, replacement)
                counts[tid] = counts.get(tid, 0) + len(spans)
        for tid in sorted(texts, key=lambda t: by_tid[t][0]):
            iid, v = by_tid[tid]
            tr = s.get(Transcript, tid)
            old = old_segments(s, tr)
            result = realign_changed(old, texts[tid])
            segs = result.segments
            nt = write_version(s, tr, tr, segs, who=who, source=SOURCE)
            flag_changed_mentions(s, iid, old, segs, nt.version)
            s.add(Revision(interview_id=iid, transcript_id=nt.id, kind="transcript", who=who, at=utcnow(),
                           before={"version": v}, after={"version": nt.version, "replaced": counts[tid],
                                                         **result.stats.to_dict()}, note=note))
            refresh_machine_text(s, iid, nt.id)
            applied.items.append({"interview": iid, "base": v, "version": nt.version, "count": counts[tid]})
        if applied.items:
            batch = ReplaceBatch(find=find, replace=replacement, who=who, at=utcnow(), items=applied.items)
            s.add(batch)
            s.flush()
            applied.batch = batch.id
        commit_saved(s, applied.items[0]["interview"] if applied.items else "replace")
    return applied


def undo_replace(ws, batch_id: int, *, who: str) -> Applied:
    """Put back, as new versions, the versions a replace replaced; all or nothing.

    ``ConflictError`` when an interview was saved again since the replace (its newer work would
    be undone too)."""
    from oralhist import db
    from oralhist.editorial.corrections import SAVE_LOCK, commit_saved, get_version, no_cycle_collection, old_segments, write_version
    from oralhist.editorial.indexing import refresh_machine_text
    from oralhist.recognition.align import AlignedSegment
    from oralhist.records import ReplaceBatch, Revision, utcnow

    with SAVE_LOCK, no_cycle_collection(), db.session(ws) as s:
        batch = s.get(ReplaceBatch, int(batch_id))
        if batch is None:
            raise NotFound(f"replace {batch_id}", "no such replace")
        if batch.undone_at is not None:
            raise BadInput(f"replace {batch_id}", "already undone")
        out = Applied(batch.id, batch.replace, batch.find)
        latest = latest_versions(s, [it["interview"] for it in batch.items])
        for it in batch.items:
            have = latest.get(it["interview"], (None, None))[1]
            if have != it["version"]:
                raise ConflictError(it["interview"], f"version {have} was saved after the replace (version "
                                                     f"{it['version']}); nothing undone — correct it by hand")
        for it in batch.items:
            src = get_version(s, it["interview"], it["base"])
            cur = get_version(s, it["interview"], it["version"])
            segs = [AlignedSegment(o.start_ms, o.end_ms, o.text, o.words, o.speaker_id) for o in old_segments(s, src)]
            nt = write_version(s, src, cur, segs, who=who, source="editor")
            s.add(Revision(interview_id=it["interview"], transcript_id=nt.id, kind="transcript", who=who, at=utcnow(),
                           before={"version": it["version"]}, after={"version": nt.version, "restored_from": it["base"]},
                           note=f"annulation du remplacement : {batch.find} → {batch.replace}"))
            refresh_machine_text(s, it["interview"], nt.id)
            out.items.append({"interview": it["interview"], "base": it["version"], "version": nt.version,
                              "count": it["count"]})
        batch.undone_at = utcnow()
        batch.undone_by = who
        s.add(batch)
        commit_saved(s, batch.items[0]["interview"] if batch.items else "replace")
    return out
