"""The correction memory: word and phrase corrections learned from approved versions, offered back as suggestions.

Learning: when a version is approved, its words are aligned to the newest machine version before
it (``oralhist.recognition.align.opcodes``); every changed run of 1-3 words into 1-3 words
(« Roubé » → « Roubaix », « la filateur » → « la filature ») is a pair of the interview's museum,
counted per interview (re-approving an interview replaces what it taught). How often the wrong
form was left as it was in the same text is counted too (``kept``): a pair is suggested only
while it was corrected more often than kept, so a correction made in one context is not pushed
onto every other.

Suggesting: on any transcript, each occurrence of a learned wrong form (the museum's pairs first,
then the whole network's) and each doubtful word (editorial/doubts.py) close to a name the archive knows (narrator,
interviewer, place, museum, vocabulary labels; Jaro-Winkler similarity from rapidfuzz) is a
suggestion. Nothing is ever applied here: the editor accepts or dismisses each one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from sqlmodel import Session, select

from oralhist.errors import BadInput, NotFound
from oralhist.recognition.align import norm, opcodes, tokenize
from oralhist.records import CorrectionPair, CorrectionSource, Interview, utcnow

MAX_WORDS = 3  # a pair is a word or a short phrase on each side
MAX_CHARS = 200
NAME_SIMILARITY = 0.85  # Jaro-Winkler (rapidfuzz) between a weak word and a name's word
NAME_MIN_CHARS = 4
GUARD_COMMON_WORDS = True  # see _table; bench/bench_correction_memory.py measures without it as its baseline


def fold(text: str) -> str:
    """The form used to find a wrong form: tokens lower-cased, apostrophes unified, no punctuation."""
    return " ".join(n for n in (norm(t) for t in tokenize(text)) if n and any(c.isalnum() for c in n))


def _clean(tokens: Sequence[str]) -> str:
    """Tokens as a phrase without the punctuation glued to its ends (« Roubé, » -> « Roubé »)."""
    text = " ".join(tokens)
    return text.strip(" ,.;:!?…«»\"()[]").strip()


# ---------------------------------------------------------------------------- pure parts


def changes(machine: Sequence[str], approved: Sequence[str]) -> tuple[Counter, Counter]:
    """(pairs, kept) between two token lists: ``pairs[(wrong, right)]`` how often a run of 1-3
    machine words became 1-3 other words; ``kept[key]`` how often each pair's folded wrong form
    stands unchanged in ``approved``."""
    a = [norm(t) for t in machine]
    b = [norm(t) for t in approved]
    pairs: Counter = Counter()
    block = None
    for tag, a0, a1, b0, b1 in opcodes(a, b) + [("equal", len(a), len(a), len(b), len(b))]:
        if tag != "equal":
            block = (block[0], a1, block[2], b1) if block else (a0, a1, b0, b1)
            continue
        if block:
            x0, x1, y0, y1 = block
            block = None
            if 1 <= x1 - x0 <= MAX_WORDS and 1 <= y1 - y0 <= MAX_WORDS:
                wrong, right = _clean(machine[x0:x1]), _clean(approved[y0:y1])
                if wrong and right and fold(wrong) != fold(right) and fold(wrong) and fold(right):
                    pairs[(wrong, right)] += 1
    grams: Counter = Counter()  # every run of 1-3 words of the approved text, counted once
    for n in range(1, MAX_WORDS + 1):
        grams.update(" ".join(b[i:i + n]) for i in range(len(b) - n + 1))
    kept: Counter = Counter({key: grams[key] for key in {fold(w) for w, _ in pairs}})
    return pairs, kept


@dataclass
class Match:
    """One suggestion on a list of units: units [at, at + n) would read ``replacement``."""

    at: int
    n: int
    wrong: str
    replacement: str
    kind: str  # memory | name
    detail: str  # where it comes from, for people (French)
    count: int = 0


def _dress(original: Sequence[str], right: str) -> str:
    """``right`` with the punctuation around the original words and its first capital kept."""
    first, last = original[0], original[-1]
    lead = first[: len(first) - len(first.lstrip("«\"(["))]
    trail = last[len(last.rstrip(",.;:!?…»\")]")):]
    core = first.lstrip("«\"([")
    if core[:1].isupper() and right[:1].islower():
        right = right[:1].upper() + right[1:]
    return lead + right + trail


def find(units: Sequence[str], table: dict) -> list[Match]:
    """Occurrences in ``units`` (whitespace tokens) of the wrong forms of ``table``: folded key ->
    (right, count, detail); the longest form first, never two on one word."""
    folded = [norm(u) for u in units]
    lengths = sorted({len(k.split()) for k in table}, reverse=True)
    out: list[Match] = []
    i = 0
    while i < len(units):
        for n in lengths:
            key = " ".join(folded[i:i + n])
            if i + n <= len(units) and key in table:
                right, count, detail = table[key]
                if _clean(units[i:i + n]) != right:
                    out.append(Match(i, n, " ".join(units[i:i + n]), _dress(units[i:i + n], right), "memory", detail, count))
                i += n
                break
        else:
            i += 1
    return out


def _bare(text: str) -> str:
    """A word folded for comparing with names: ``norm`` without accents (« athlètes » -> « athletes »)."""
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFD", norm(text)) if not unicodedata.combining(c))


def near_names(units: Sequence[str], weak: Sequence[bool], names: Iterable[str], taken: set) -> list[Match]:
    """Weak units close to a known name's word (rapidfuzz Jaro-Winkler ≥ NAME_SIMILARITY)."""
    from rapidfuzz import process
    from rapidfuzz.distance import JaroWinkler

    words: dict[str, str] = {}
    for name in names:
        for w in tokenize(name or ""):
            c = _clean([w])
            if len(c) >= NAME_MIN_CHARS:
                words.setdefault(_bare(c), c)
    if not words:
        return []
    keys = list(words)
    out = []
    for i, (u, w) in enumerate(zip(units, weak)):
        if not w or i in taken:
            continue
        f = _bare(u)
        if len(f) < NAME_MIN_CHARS - 1 or f in words:
            continue
        best = process.extractOne(f, [k for k in keys if k[:1] == f[:1]], scorer=JaroWinkler.similarity,
                                  score_cutoff=NAME_SIMILARITY)  # the same first letter: « leur » is not « Fleurs »
        if best is not None and best[0].rstrip("sx") != f.rstrip("sx"):  # not a plural of the name
            out.append(Match(i, 1, u, _dress([u], words[best[0]]), "name", "nom connu de l’archive"))
    return out


# ---------------------------------------------------------------------------- the database


def _pairs_of(s: Session, museum_id: Optional[int] = None, *, every: bool = True) -> list[CorrectionPair]:
    q = select(CorrectionPair).where(CorrectionPair.deleted == False)  # noqa: E712 - SQL
    if not every:
        q = q.where(CorrectionPair.museum_id == museum_id) if museum_id is not None else q.where(CorrectionPair.museum_id.is_(None))
    return s.exec(q).all()


def _edges(s: Session) -> dict[str, set]:
    edges: dict[str, set] = defaultdict(set)
    for key, right in s.exec(select(CorrectionPair.key, CorrectionPair.right).where(CorrectionPair.deleted == False)).all():  # noqa: E712
        edges[key].add(fold(right))
    return edges


def would_loop(s: Session, wrong: str, right: str, edges: Optional[dict] = None) -> bool:
    """True when ``right`` already leads back to ``wrong`` through the network's live pairs (A→B, B→A;
    A→B, B→C, C→A). ``edges``: the pairs as ``_edges`` reads them, when the caller has them."""
    edges = _edges(s) if edges is None else edges
    start, goal = fold(right), fold(wrong)
    seen, todo = set(), [start]
    while todo:
        k = todo.pop()
        if k == goal:
            return True
        if k in seen:
            continue
        seen.add(k)
        todo.extend(edges.get(k, ()))
    return False


def _pair(s: Session, museum_id, wrong: str, right: str) -> CorrectionPair:
    key = fold(wrong)
    q = select(CorrectionPair).where(CorrectionPair.key == key, CorrectionPair.right == right)
    q = q.where(CorrectionPair.museum_id == museum_id) if museum_id is not None else q.where(CorrectionPair.museum_id.is_(None))
    p = s.exec(q).first()
    if p is None:
        p = CorrectionPair(museum_id=museum_id, key=key, wrong=wrong, right=right)
        s.add(p)
        s.flush()
    return p


def learn(s: Session, interview_id: str, version: int, who: str) -> dict:
    """What the approved ``version`` teaches (in the caller's transaction): {"learned": n, "refused": [...]}."""
    from oralhist.records import Segment, Transcript

    iv = s.get(Interview, interview_id)
    rows = s.exec(select(Transcript).where(Transcript.interview_id == interview_id)).all()
    approved = next((t for t in rows if t.version == version), None)
    machines = [t for t in rows if t.source == "machine" and t.version < version]
    if iv is None or approved is None or not machines:
        return {"learned": 0, "refused": []}
    from oralhist.records import Consent

    consent = s.exec(select(Consent).where(Consent.interview_id == interview_id)).first()
    if consent is not None and consent.anonymise:  # its corrections may be real names: they never travel
        return {"learned": 0, "refused": [], "anonymised": True}
    machine = max(machines, key=lambda t: t.version)

    def tokens(tr) -> list[str]:
        texts = s.exec(select(Segment.text).where(Segment.transcript_id == tr.id).order_by(Segment.idx)).all()
        return [t for text in texts for t in tokenize(text)]

    pairs, kept = changes(tokens(machine), tokens(approved))
    old = s.exec(select(CorrectionSource).where(CorrectionSource.interview_id == interview_id)).all()
    for src in old:  # re-approving: this interview teaches what its newest approval says
        s.delete(src)
    s.flush()
    learned, refused = 0, []
    edges = _edges(s)
    for (wrong, right), n in sorted(pairs.items()):
        if len(wrong) > MAX_CHARS or len(right) > MAX_CHARS:
            continue
        key = fold(wrong)
        gone = s.exec(select(CorrectionPair).where(CorrectionPair.key == key, CorrectionPair.right == right,
                                                   CorrectionPair.deleted == True)).first()  # noqa: E712
        if gone is not None:
            continue  # an editor deleted this pair: never learned again
        if would_loop(s, wrong, right, edges):
            refused.append(f"{wrong} → {right}")
            continue
        edges[key].add(fold(right))
        p = _pair(s, iv.museum_id, wrong, right)
        p.updated_at = utcnow()
        s.add(p)
        s.add(CorrectionSource(pair_id=p.id, interview_id=interview_id, version=version, count=n,
                               kept=kept.get(key, 0), who=who))
        learned += 1
    return {"learned": learned, "refused": refused}


def add_pair(ws, wrong: str, right: str, *, museum_id: Optional[int], who: str) -> dict:
    """Teach a pair by hand (``BadInput`` for an empty, too long or looping pair; nothing written)."""
    from oralhist import db

    wrong, right = " ".join(wrong.split()), " ".join(right.split())
    for what, text in (("wrong", wrong), ("right", right)):
        if not fold(text):
            raise BadInput(what, "empty (no word in it)")
        if len(text) > MAX_CHARS or len(tokenize(text)) > MAX_WORDS:
            raise BadInput(what, f"too long: a pair is at most {MAX_WORDS} words of {MAX_CHARS} characters")
    if fold(wrong) == fold(right):
        raise BadInput("right", "the same words as the wrong form")
    with db.session(ws) as s:
        if would_loop(s, wrong, right):
            raise BadInput(f"{wrong} → {right}", "would loop: the memory already leads back from the right form to the wrong one")
        for p in s.exec(select(CorrectionPair).where(CorrectionPair.key == fold(wrong), CorrectionPair.right == right)).all():
            if p.deleted and p.museum_id == museum_id:
                p.deleted = False
                s.add(p)
        p = _pair(s, museum_id, wrong, right)
        p.taught_by = who  # counts as one correction
        p.updated_at = utcnow()
        s.add(p)
        s.commit()
        return {"id": p.id, "wrong": p.wrong, "right": p.right}


def delete_pair(ws, pair_id: int, *, who: str) -> dict:
    """Remove a bad pair: it is no longer suggested, and the same correction is not learned again."""
    from oralhist import db
    from oralhist.records import Revision

    with db.session(ws) as s:
        p = s.get(CorrectionPair, pair_id)
        if p is None or p.deleted:
            raise NotFound(str(pair_id), "no such pair in the correction memory")
        p.deleted = True
        p.updated_at = utcnow()
        s.add(p)
        src = s.exec(select(CorrectionSource.interview_id).where(CorrectionSource.pair_id == pair_id)).first()
        if src:
            s.add(Revision(interview_id=src, kind="memory", who=who, before={"pair": [p.wrong, p.right]},
                           after=None, note=f"correction memory: deleted {p.wrong} → {p.right}"))
        s.commit()
        return {"id": p.id, "deleted": True}


def list_pairs(s: Session, museum_id: Optional[int] = None, *, every: bool = True) -> list[dict]:
    """Live pairs with their counts (this museum's and the network's) and the interviews they came from."""
    from oralhist.records import Museum

    pairs = _pairs_of(s, museum_id, every=every)
    ids = [p.id for p in pairs]
    srcs: dict[int, list] = defaultdict(list)
    for chunk in range(0, len(ids), 500):
        for src in s.exec(select(CorrectionSource).where(CorrectionSource.pair_id.in_(ids[chunk:chunk + 500]))).all():
            srcs[src.pair_id].append(src)
    museums = {m.id: m.name for m in s.exec(select(Museum)).all()}
    network: Counter = Counter()
    for p in _pairs_of(s):
        network[(p.key, p.right)] += sum(x.count for x in srcs.get(p.id, ())) + (1 if p.taught_by else 0)
    out = []
    for p in pairs:
        mine = srcs.get(p.id, [])
        out.append({"id": p.id, "wrong": p.wrong, "right": p.right, "museum": museums.get(p.museum_id),
                    "count": sum(x.count for x in mine) + (1 if p.taught_by else 0), "kept": sum(x.kept for x in mine),
                    "network_count": network[(p.key, p.right)],
                    "from": sorted({x.interview_id for x in mine}), "taught_by": p.taught_by})
    out.sort(key=lambda d: (-d["count"], d["wrong"].casefold(), d["right"]))
    return out


def common(form: str) -> bool:
    """Every word of ``form`` is a common French word (wordfreq Zipf ≥ the linker's KNOWN_ZIPF) or
    has two letters at most: « il », « pendant », « casserole », not « Limpic » nor « filateur »."""
    from wordfreq import zipf_frequency

    from oralhist.editorial.link import KNOWN_ZIPF

    return all(len(w) <= 2 or zipf_frequency(w, "fr") >= KNOWN_ZIPF for w in form.split())


def _table(s: Session, museum_id: Optional[int]) -> dict:
    """folded wrong form -> (right, count, detail): this museum's best pair, else the network's.

    A pair is offered while it was corrected more often than left as it was (``count > kept``);
    when its wrong form is made of common words (a correction of « il » into « ils » depends on
    its sentence), only once it was learned from two interviews or more (or taught by hand)."""
    best: dict[str, tuple] = {}
    counts: dict[int, list] = defaultdict(lambda: [0, 0, set()])
    for pid, c, k, iid in s.exec(select(CorrectionSource.pair_id, CorrectionSource.count, CorrectionSource.kept,
                                        CorrectionSource.interview_id)).all():
        counts[pid][0] += c
        counts[pid][1] += k
        counts[pid][2].add(iid)
    net: dict[tuple, list] = defaultdict(lambda: [0, 0, set()])
    mine: dict[tuple, list] = defaultdict(lambda: [0, 0, set()])
    for p in _pairs_of(s):
        c, k, where = counts[p.id]
        if p.taught_by:
            c, where = c + 1, where | {"(taught)"}
        for bucket in ((net,) + ((mine,) if p.museum_id == museum_id else ())):
            bucket[(p.key, p.right)][0] += c
            bucket[(p.key, p.right)][1] += k
            bucket[(p.key, p.right)][2] |= where
    for scope, detail in ((net, "mémoire du réseau"), (mine, "mémoire du musée")):  # the museum's win
        for key, right in sorted(scope, key=lambda kr: scope[kr][0]):
            c, k, where = scope[(key, right)]
            if c > k and (not GUARD_COMMON_WORDS or len(where) >= 2 or "(taught)" in where or not common(key)):
                best[key] = (right, c, detail)
    return best


def names_of(s: Session, interview_id: str) -> list[str]:
    """Names the archive knows for an interview: people, place, museum, vocabulary labels."""
    from oralhist.records import Museum, Person, Term

    iv = s.get(Interview, interview_id)
    if iv is None:
        return []
    out = [iv.place or ""]
    for pid in (iv.narrator_id, iv.interviewer_id):
        p = s.get(Person, pid) if pid else None
        if p is not None:
            out.append(p.name)
    m = s.get(Museum, iv.museum_id) if iv.museum_id else None
    if m is not None:
        out += [m.name, m.place or ""]
    for label, alts, mid in s.exec(select(Term.label, Term.alt_labels, Term.museum_id)).all():
        if mid is None or mid == iv.museum_id:
            out.append(label)
            out += [a for a in (alts or []) if isinstance(a, str)]
    return out


def suggestions(s: Session, interview_id: str) -> dict:
    """The suggestions for an interview's newest version: {"version", "items": [...]}, each item
    {"start", "end", "n", "wrong", "replacement", "kind", "detail", "count"} (times in ms of the
    units the editor shows; ``n`` units from the one starting at ``start``)."""
    from oralhist.editorial.doubts import judged_words
    from oralhist.editorial.view import current_transcript
    from oralhist.recognition.align import AWord, group_units

    tr = current_transcript(s, interview_id)
    iv = s.get(Interview, interview_id)
    if tr is None or iv is None:
        raise NotFound(interview_id, "no transcript yet")
    rows, flags = judged_words(s, tr)  # every word, in order, with its ``doubtful`` flag (editorial/doubts.py)
    words = [AWord(a, b, t, p) for _, a, b, t, p, _ in rows]
    seg_of = [r[5] for r in rows]
    doubtful = {id(w): f for w, f in zip(words, flags)}
    units: list[tuple[str, list]] = []
    for _, grp in _by_segment(words, seg_of):
        units += group_units(grp)
    texts = [u[0] for u in units]
    found = find(texts, _table(s, iv.museum_id))
    taken = {i for m in found for i in range(m.at, m.at + m.n)}
    weak = [any(doubtful[id(w)] for w in u[1]) for u in units]
    found += near_names(texts, weak, names_of(s, interview_id), taken)
    found.sort(key=lambda m: m.at)
    items = [{"start": units[m.at][1][0].start_ms, "end": units[m.at + m.n - 1][1][-1].end_ms, "n": m.n,
              "wrong": m.wrong, "replacement": m.replacement, "kind": m.kind, "detail": m.detail, "count": m.count}
             for m in found]
    return {"interview": interview_id, "version": tr.version, "items": items}


def _by_segment(words: list, seg_of: list):
    from itertools import groupby

    it = iter(words)
    for sid, grp in groupby(seg_of):
        yield sid, [next(it) for _ in grp]
