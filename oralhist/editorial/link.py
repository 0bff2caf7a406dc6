"""Suggest links between passages of interviews and vocabulary terms (stage "link").

Every term's labels (preferred and alternative) become sequences of *keys*: each word is
lower-cased, lemmatised with simplemma (French), stripped of accents and folded by a few
suffix rules (plural -s/-x, feminine -euse/-rice/-ière/-ienne/-onne/-ande/-ote), so that
"Fileuses", "fileur" and "FILEUR" give the same key. The transcript's words get the same keys
and are scanned once against an index ``first key -> label sequences`` (no term x word loop).
Recognition errors ("hercheur" for "herscheur", "gali beau" for "galibot") are caught by a
fuzzy comparison (rapidfuzz) restricted to candidate windows whose first word resembles the
first word of a label; the threshold was measured (bench/bench_link.py, bench/RESULTS-link.md).

A suggestion is a Link (status "suggested", source "auto") whose clip is padded to the
sentence (word timings) around the mention, with the quote and a confidence. Accepted,
rejected and manual links are never touched by a re-run; a rejected suggestion is never
suggested again for the same place (same term, overlapping time range).
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Optional

from sqlalchemy import delete, insert
from sqlmodel import Session, select

from oralhist.errors import BadInput, NotFound
from oralhist.progress import NULL, Progress
from oralhist.records import Link, LinkStatus, Revision, Segment, Term, Word, utcnow
from oralhist.stage import StageReport, mark_done

# Fuzzy matches need a similarity (rapidfuzz ratio, 0-100) of at least this much between the
# window of words and the label, on labels of at least FUZZY_MIN_CHARS characters.
# Measured in bench/bench_link.py: see bench/RESULTS-link.md.
FUZZY_THRESHOLD = 86.0
FUZZY_MIN_CHARS = 7
CLIP_MAX_MS = 45_000  # a sentence longer than this is cut to the mention +- CLIP_PAD_MS
CLIP_PAD_MS = 8_000
QUOTE_MAX = 400

_TOKEN = re.compile(r"\w+")
_SENT_END = re.compile(r"[.!?…]+")


def _strip_accents(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("æ", "ae"))
    return "".join(c for c in text if not unicodedata.combining(c))


# Suffix folding applied after the lemma (both on labels and on transcripts, so it only has
# to be consistent, not linguistically perfect). Feminine -> masculine trade names.
_FEM = (("euses", "eur"), ("euse", "eur"), ("trices", "teur"), ("trice", "teur"), ("ieres", "ier"), ("iere", "ier"),
        ("iennes", "ien"), ("ienne", "ien"), ("onnes", "on"), ("onne", "on"))


@lru_cache(maxsize=500_000)
def word_key(word: str) -> str:
    """The matching key of one lower-case word: lemma, no accents, plural/feminine folded."""
    k = _strip_accents(word_lemma(word))
    for suf, rep in _FEM:
        if k.endswith(suf) and len(k) > len(suf) + 2:
            k = k[: -len(suf)] + rep
            break
    else:
        if len(k) > 4 and k.endswith("s") and not k.endswith("ss"):
            k = k[:-1]
        elif len(k) > 4 and k.endswith("aux"):
            k = k[:-3] + "al"
        elif len(k) > 4 and k.endswith("x") and k[-2] in "eu":
            k = k[:-1]
        if len(k) > 6 and k.endswith("ande"):
            k = k[:-1]
        elif len(k) > 6 and k.endswith("ote"):
            k = k[:-1]
    return k


KNOWN_ZIPF = 3.0  # a word seen at least once per million words of French is "a real word"


@lru_cache(maxsize=500_000)
def _known(word: str) -> bool:
    """A common French word (wordfreq Zipf >= 3), or a short function word ("l", "de")."""
    if len(word) <= 2:
        return True
    try:
        from wordfreq import zipf_frequency
    except ImportError:  # pragma: no cover - wordfreq is in requirements/link.txt
        import simplemma

        return simplemma.is_known(word, lang="fr")
    if zipf_frequency(word, "fr") >= KNOWN_ZIPF:
        return True
    lemma = word_lemma(word)
    return lemma != word and zipf_frequency(lemma, "fr") >= KNOWN_ZIPF  # "porcelaines", "rattachant"


@lru_cache(maxsize=500_000)
def word_lemma(word: str) -> str:
    import simplemma

    return simplemma.lemmatize(word, lang="fr").lower() if len(word) > 2 else word


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.replace("’", "'").lower())


def keys(text: str) -> tuple[str, ...]:
    return tuple(word_key(t) for t in tokens(text))


# --------------------------------------------------------------------------- the index


@dataclass(eq=False)
class Surface:
    term_id: int
    label: str  # the label or alternative label as written
    keys: tuple[str, ...]
    folded: set  # token tuples without accents, not lemmatised (what counts as exact)

    @property
    def joined(self) -> str:
        return " ".join(self.keys)


class TermIndex:
    """Every label of every term as key sequences, indexed by first key."""

    def __init__(self, terms: Iterable[Term], threshold: float = FUZZY_THRESHOLD, fuzzy: bool = True):
        self.threshold = threshold
        self.fuzzy = fuzzy
        self.by_first: dict[str, list[Surface]] = {}
        self.labels: dict[int, str] = {}
        self.kinds: dict[int, str] = {}
        for t in terms:
            self.labels[t.id] = t.label
            self.kinds[t.id] = t.kind.value if hasattr(t.kind, "value") else str(t.kind)
            forms = [t.label, *(t.alt_labels or [])]
            if t.designation:
                forms.append(t.designation)
            seen: dict[tuple, Surface] = {}
            for form in forms:
                form = re.sub(r"\([^)]*\)", " ", form)  # "Métier Jacquard (2004.12.3)" -> "Métier Jacquard"
                toks = tokens(form)
                if not toks:
                    continue
                k = tuple(word_key(x) for x in toks)
                folded = tuple(_strip_accents(x) for x in toks)
                if k in seen:
                    seen[k].folded.add(folded)
                    continue
                seen[k] = Surface(t.id, form.strip(), k, {folded})
            for sf in seen.values():
                self.by_first.setdefault(sf.keys[0], []).append(sf)
        for lst in self.by_first.values():
            lst.sort(key=lambda sf: -len(sf.keys))
        self.max_len = max((len(sf.keys) for lst in self.by_first.values() for sf in lst), default=0)
        self._firsts = [k for k in self.by_first if len(k) >= 3]
        self._sorted_firsts = sorted(self._firsts)
        self._fuzzy_cache: dict[str, list[Surface]] = {}
        self._group_cache: dict[str, dict] = {}

    def __len__(self) -> int:
        return len(self.labels)

    def fuzzy_candidates(self, key: str) -> list[Surface]:
        """Labels whose first key resembles ``key`` (or starts with it: split words). Cached."""
        hit = self._fuzzy_cache.get(key)
        if hit is not None:
            return hit
        out: list[Surface] = []
        if len(key) >= 3 and self._firsts:
            from rapidfuzz import fuzz, process

            # same first word, longer label ("visiteuse de prèces"), or a similar first word
            out.extend(sf for sf in self.by_first.get(key, ()) if len(sf.keys) > 1)
            for first, _score, _ in process.extract(key, self._firsts, scorer=fuzz.ratio, score_cutoff=70, limit=None):
                if first != key:
                    out.extend(self.by_first[first])
            if len(key) >= 4:  # a label's first word split by the recogniser: "gali beau" for "galibot"
                for j in range(bisect_left(self._sorted_firsts, key), len(self._sorted_firsts)):
                    first = self._sorted_firsts[j]
                    if not first.startswith(key):
                        break
                    if len(first) > len(key) + 1:
                        out.extend(sf for sf in self.by_first[first] if sf not in out)
            out = [sf for sf in out if len(sf.joined.replace(" ", "")) >= FUZZY_MIN_CHARS]
        self._fuzzy_cache[key] = out
        return out


    def fuzzy_groups(self, key: str) -> dict:
        """The fuzzy candidates of ``key`` grouped by label length (in words), each group as
        (joined keys, joined folded forms, owner of each key, owner of each folded form)."""
        hit = self._group_cache.get(key)
        if hit is not None:
            return hit
        groups: dict[int, tuple[list, list, list, list]] = {}
        for sf in self.fuzzy_candidates(key):
            g = groups.setdefault(len(sf.keys), ([], [], [], []))
            g[0].append("".join(sf.keys))
            g[2].append(sf)
            for f in sf.folded:
                g[1].append("".join(f))
                g[3].append(sf)
        self._group_cache[key] = groups
        return groups


def fingerprint(terms: Iterable[Term]) -> str:
    h = hashlib.sha1()
    for t in sorted(terms, key=lambda t: t.id):
        h.update(f"{t.id}\x1f{t.label}\x1f{'|'.join(t.alt_labels or [])}\x1f{t.designation or ''}\n".encode())
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------- matching text


@dataclass(frozen=True)
class Match:
    term_id: int
    start: int  # token index (inclusive)
    end: int  # token index (exclusive)
    confidence: float
    how: str  # exact | lemma | fuzzy
    surface: str


def find_mentions(toks: list[str], index: TermIndex) -> list[Match]:
    """Mentions of terms in one sequence of lower-case tokens (longest match wins)."""
    ks = [word_key(t) for t in toks]
    n = len(ks)
    found: list[Match] = []
    covered = [False] * n
    by_first = index.by_first
    for i in range(n):
        cands = by_first.get(ks[i])
        if not cands:
            continue
        for sf in cands:  # longest first
            m = len(sf.keys)
            if i + m <= n and tuple(ks[i:i + m]) == sf.keys:
                exact = tuple(_fold_tok(t) for t in toks[i:i + m]) in sf.folded
                found.append(Match(sf.term_id, i, i + m, 1.0 if exact else 0.9, "exact" if exact else "lemma", sf.label))
                for j in range(i, i + m):
                    covered[j] = True
    if index.fuzzy:
        found.extend(_fuzzy(toks, ks, covered, index))
    return _resolve(found)


@lru_cache(maxsize=500_000)
def _fold_tok(tok: str) -> str:
    return _strip_accents(tok)


def _fuzzy(toks: list[str], ks: list[str], covered: list[bool], index: TermIndex) -> list[Match]:
    from rapidfuzz import fuzz, process

    out = []
    n = len(ks)
    thr = index.threshold
    # A window is only worth comparing if it holds a word that is not common French: recognition
    # errors on rare trade names give rare strings, and real words ("portion", "comme ça") are
    # not a misheard "porion" or "commerce".
    unknown = [i for i in range(n) if not _known(toks[i])]
    if not unknown:
        return out
    span = index.max_len + 1
    starts = sorted({i for u in unknown for i in range(max(0, u - span + 1), u + 1)})
    folds: dict[int, str] = {}
    for i in starts:
        if covered[i] or len(ks[i]) < 3:
            continue
        u = unknown[bisect_left(unknown, i)]  # the first uncommon word at or after i: a window must reach it
        groups = index.fuzzy_groups(ks[i])
        if not groups:
            continue
        best: Optional[Match] = None
        for w in range(u - i + 1, span + 1):
            if i + w > n or covered[i + w - 1]:
                break
            window = "".join(ks[i:i + w])
            surface = None
            for m in (w, w + 1, w - 1):
                g = groups.get(m)
                if g is None:
                    continue
                targets, folded, owners, _ = g
                hit = process.extractOne(window, targets, scorer=fuzz.ratio, score_cutoff=thr)
                if hit is not None:
                    score, sf = hit[1], owners[hit[2]]
                else:
                    if surface is None:
                        for j in range(i, i + w):
                            if j not in folds:
                                folds[j] = _fold_tok(toks[j])
                        surface = "".join(folds[j] for j in range(i, i + w))
                    hit = process.extractOne(surface, folded, scorer=fuzz.ratio, score_cutoff=thr)
                    if hit is None:
                        continue
                    score, sf = hit[1], g[3][hit[2]]
                conf = round(0.5 + 0.4 * (score - thr) / max(1.0, 100 - thr), 3)
                if best is None or conf > best.confidence:
                    best = Match(sf.term_id, i, i + w, conf, "fuzzy", sf.label)
        if best is not None:
            out.append(best)
    return out


def _resolve(found: list[Match]) -> list[Match]:
    """Longest match wins; one mention per term and place."""
    found.sort(key=lambda m: (-(m.end - m.start), -m.confidence, m.start))
    kept: list[Match] = []
    for m in found:
        clash = False
        for k in kept:
            overlap = m.start < k.end and k.start < m.end
            if not overlap:
                continue
            if k.term_id == m.term_id or (k.start <= m.start and m.end <= k.end and (k.end - k.start) > (m.end - m.start)):
                clash = True
                break
            if m.how == "fuzzy" or k.how == "fuzzy":
                clash = True
                break
        if not clash:
            kept.append(m)
    return sorted(kept, key=lambda m: (m.start, m.term_id))


# --------------------------------------------------------------------------- clips from timings


@dataclass
class _Seg:
    id: int
    start_ms: int
    end_ms: int
    text: str
    words: list = field(default_factory=list)  # (start_ms, end_ms, text)


@dataclass(frozen=True)
class Suggestion:
    term_id: int
    start_ms: int
    end_ms: int
    quote: str
    confidence: float
    how: str


def _clips(seg: _Seg, matches: list[Match]) -> list[Suggestion]:
    """Clips of the mentions in one segment: each padded to its sentence (word timings)."""
    text = seg.text.replace("’", "'")
    spans = [(mm.start(), mm.end()) for mm in _TOKEN.finditer(text)]
    ntok = len(spans)
    ends = [mm.end() for mm in _SENT_END.finditer(text)]
    sent_of = [bisect_right(ends, a) for a, _ in spans]  # sentence number of each token
    first_of: dict[int, int] = {}
    last_of: dict[int, int] = {}
    for i, sn in enumerate(sent_of):
        first_of.setdefault(sn, i)
        last_of[sn] = i
    # token index -> time, through the words when they tile the segment's text
    tok_time = None
    if seg.words:
        times = []
        for ws_, we_, wt in seg.words:
            times.extend([(ws_, we_)] * len(_TOKEN.findall(wt.replace("’", "'"))))
        if len(times) == ntok:
            tok_time = times
    if tok_time is None:
        dur = max(1, seg.end_ms - seg.start_ms)
        tok_time = [(seg.start_ms + dur * i // max(1, ntok), seg.start_ms + dur * (i + 1) // max(1, ntok)) for i in range(ntok)]
    out = []
    for m in matches:
        first, last = first_of[sent_of[m.start]], last_of[sent_of[m.end - 1]]
        start, end = tok_time[first][0], tok_time[last][1]
        if first == 0 and tok_time[0][0] - seg.start_ms < 1500:
            start = min(start, seg.start_ms)
        if last == ntok - 1 and seg.end_ms - tok_time[-1][1] < 1500:
            end = max(end, seg.end_ms)
        m_start, m_end = tok_time[m.start][0], tok_time[m.end - 1][1]
        if end - start > CLIP_MAX_MS:
            start, end = max(start, m_start - CLIP_PAD_MS), min(end, m_end + CLIP_PAD_MS)
        # quote: the sentence, trimmed around the mention when very long
        qa = spans[first][0]
        k = bisect_right(ends, spans[last][1] - 1)
        qb = ends[k] if k < len(ends) else spans[last][1]
        if qb - qa > QUOTE_MAX:
            qa = max(qa, spans[m.start][0] - QUOTE_MAX // 2)
            qb = min(qb, spans[m.end - 1][1] + QUOTE_MAX // 2)
        quote = " ".join(seg.text[qa:qb].split())
        out.append(Suggestion(m.term_id, int(start), int(end), quote, m.confidence, m.how))
    return out


def suggest_for_transcript(s: Session, transcript_id: int, index: TermIndex) -> list[Suggestion]:
    """Every mention in one transcript, as clips (reads words only for segments with a mention)."""
    rows = s.exec(
        select(Segment.id, Segment.start_ms, Segment.end_ms, Segment.text)
        .where(Segment.transcript_id == transcript_id)
        .order_by(Segment.idx)
    ).all()
    hits: list[tuple[_Seg, list[Match]]] = []
    for sid, a, b, text in rows:
        ms = find_mentions(tokens(text), index)
        if ms:
            hits.append((_Seg(sid, a, b, text), ms))
    if not hits:
        return []
    by_id = {seg.id: seg for seg, _ in hits}
    ids = list(by_id)
    for chunk in range(0, len(ids), 500):
        for seg_id, a, b, t in s.exec(
            select(Word.segment_id, Word.start_ms, Word.end_ms, Word.text)
            .where(Word.segment_id.in_(ids[chunk:chunk + 500]))
            .order_by(Word.segment_id, Word.idx)
        ).all():
            by_id[seg_id].words.append((a, b, t))
    out = []
    for seg, ms in hits:
        out.extend(_clips(seg, ms))
    return out


# --------------------------------------------------------------------------- the stage


def _overlaps(a0: int, a1: int, b0: int, b1: int) -> bool:
    return a0 < b1 and b0 < a1


def load_index(s: Session, **kw) -> tuple[TermIndex, str]:
    terms = s.exec(select(Term)).all()
    return TermIndex(terms, **kw), fingerprint(terms)


def link_interviews(ws, ids, *, force: bool = False, progress: Progress = NULL,
                    threshold: float = FUZZY_THRESHOLD, fuzzy: bool = True) -> StageReport:
    """Suggest links in each interview's current transcript, each interview in its own transaction.

    Skips an interview already linked with the same vocabulary and transcript unless ``force``.
    Re-running replaces the earlier *suggested* automatic links; accepted, rejected and manual
    links stay, and no suggestion is made where a link of the same term already overlaps.
    An archive with no vocabulary at all gets the bundled starter vocabulary of trades first.
    """
    from oralhist import db
    from oralhist.editorial import vocab
    from oralhist.stage import is_done
    from oralhist.records import StageRun
    from oralhist.editorial.view import current_transcript

    report = StageReport(stage="link")
    with db.session(ws) as s:
        empty = s.exec(select(Term.id)).first() is None
    if empty:
        vocab.ensure_starter(ws)
        progress.log("link: no vocabulary yet, loaded the starter vocabulary of trades")
    with db.session(ws) as s:
        index, fp = load_index(s, threshold=threshold, fuzzy=fuzzy)
    report.details.update(terms=len(index), vocab=fp, threshold=threshold, suggested=0)
    task = progress.add("link", total=len(ids))
    engine = db.engine_for(ws)  # migrated above by db.session; one short transaction per interview
    for iid in ids:
        try:
            with Session(engine, expire_on_commit=False) as s:
                tr = current_transcript(s, iid)
                if tr is None:
                    report.failed.append((iid, "no transcript yet (run `oralhist transcribe` first)"))
                    continue
                options = {"vocab": fp, "transcript_id": tr.id, "version": tr.version, "threshold": threshold}
                if not force and is_done(s, iid, "link"):
                    run = s.exec(select(StageRun).where(StageRun.interview_id == iid, StageRun.stage == "link")).one()
                    if (run.options or {}).get("vocab") == fp and (run.options or {}).get("transcript_id") == tr.id:
                        report.skipped.append(iid)
                        continue
                # Earlier automatic suggestions go; accepted, rejected and manual links stay and
                # block any new suggestion of the same term over an overlapping range.
                s.execute(delete(Link).where(Link.interview_id == iid, Link.status == LinkStatus.suggested,
                                             Link.source == "auto"))
                taken: dict[int, list[tuple[int, int]]] = {}
                for term_id, a, b in s.execute(select(Link.term_id, Link.start_ms, Link.end_ms)
                                               .where(Link.interview_id == iid)).all():
                    taken.setdefault(term_id, []).append((a, b))
                rows = []
                now = utcnow()
                for sug in suggest_for_transcript(s, tr.id, index):
                    ranges = taken.setdefault(sug.term_id, [])
                    if any(_overlaps(a, b, sug.start_ms, sug.end_ms) for a, b in ranges):
                        continue
                    ranges.append((sug.start_ms, sug.end_ms))
                    rows.append(dict(interview_id=iid, term_id=sug.term_id, start_ms=sug.start_ms, end_ms=sug.end_ms,
                                     quote=sug.quote, confidence=sug.confidence, status=LinkStatus.suggested,
                                     source="auto", created_at=now))
                if rows:
                    s.execute(insert(Link), rows)
                made = len(rows)
                options["suggested"] = made
                mark_done(s, iid, "link", options)
                s.commit()
                report.done.append(iid)
                report.details["suggested"] += made
        except Exception as exc:  # one interview failing does not stop the others
            from oralhist.errors import OralhistError

            if isinstance(exc, OralhistError):
                report.failed.append((iid, exc.reason))
            else:
                raise
        finally:
            progress.advance(task)
    return report


# --------------------------------------------------------------------------- editing links


def _who() -> str:
    return os.environ.get("ORALHIST_USER") or os.environ.get("USER") or "unknown"


def _snapshot(l: Link) -> dict:
    return {"id": l.id, "term_id": l.term_id, "start_ms": l.start_ms, "end_ms": l.end_ms,
            "status": l.status.value if hasattr(l.status, "value") else l.status, "quote": l.quote}


def set_status(ws, link_ids: list[int], status: str) -> list[Link]:
    """Accept or reject suggestions (a rejected one is never suggested again at that place)."""
    from oralhist import db

    st = LinkStatus(status)
    with db.session(ws) as s:
        rows = []
        for lid in link_ids:
            l = s.get(Link, lid)
            if l is None:
                raise NotFound(str(lid), "no such link (see `oralhist link list`)")
            rows.append(l)
        for l in rows:
            before = _snapshot(l)
            l.status = st
            l.review = None
            s.add(l)
            s.add(Revision(interview_id=l.interview_id, kind="link", who=_who(), before=before, after=_snapshot(l),
                           note=f"link {status}"))
        s.commit()
        return rows


def add_link(ws, interview_id: str, start_ms: int, end_ms: int, term: str, kind: Optional[str] = None) -> Link:
    """A link made by hand (accepted), with the transcript's words in the range as its quote."""
    from oralhist import db
    from oralhist.records import Interview
    from oralhist.editorial.vocab import find_term
    from oralhist.editorial.view import current_transcript

    if end_ms <= start_ms:
        raise BadInput(f"{start_ms}-{end_ms}", "the end must come after the start")
    with db.session(ws) as s:
        if s.get(Interview, interview_id) is None:
            raise NotFound(interview_id, "no such interview")
        t = find_term(s, term, kind)
        quote = ""
        tr = current_transcript(s, interview_id)
        if tr is not None:
            segs = s.exec(select(Segment.text).where(Segment.transcript_id == tr.id, Segment.end_ms > start_ms,
                                                     Segment.start_ms < end_ms).order_by(Segment.idx)).all()
            quote = " ".join(" ".join(segs).split())[:QUOTE_MAX]
        l = Link(interview_id=interview_id, term_id=t.id, start_ms=start_ms, end_ms=end_ms, quote=quote,
                 confidence=1.0, status=LinkStatus.accepted, source="manual", created_at=utcnow())
        s.add(l)
        s.flush()
        s.add(Revision(interview_id=interview_id, kind="link", who=_who(), after=_snapshot(l), note="link add"))
        s.commit()
        return l


def remove_link(ws, link_id: int) -> None:
    """Delete a link (the Revision keeps what it was). To stop a suggestion coming back, reject it."""
    from oralhist import db

    with db.session(ws) as s:
        l = s.get(Link, link_id)
        if l is None:
            raise NotFound(str(link_id), "no such link (see `oralhist link list`)")
        s.add(Revision(interview_id=l.interview_id, kind="link", who=_who(), before=_snapshot(l), note="link remove"))
        s.delete(l)
        s.commit()


@dataclass(frozen=True)
class LinkRow:
    id: int
    interview_id: str
    term: str
    kind: str
    start_ms: int
    end_ms: int
    quote: str
    confidence: float
    status: str
    source: str
    inventory_number: Optional[str] = None
    review: Optional[str] = None  # why it needs a new look (its mention changed in a correction)

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


def list_links(s: Session, interview_id: Optional[str] = None, status: Optional[str] = None,
               term: Optional[str] = None) -> list[LinkRow]:
    q = select(Link, Term).join(Term, Term.id == Link.term_id)
    if interview_id:
        q = q.where(Link.interview_id == interview_id)
    if status:
        q = q.where(Link.status == LinkStatus(status))
    if term:
        from oralhist.editorial.vocab import find_term

        q = q.where(Link.term_id == find_term(s, term).id)
    rows = s.exec(q.order_by(Link.interview_id, Link.start_ms)).all()
    return [LinkRow(l.id, l.interview_id, t.label, t.kind.value, l.start_ms, l.end_ms, l.quote, l.confidence,
                    l.status.value, l.source, t.inventory_number, l.review) for l, t in rows]


def flag_changed_mentions(s: Session, interview_id: str, old_segments, new_segments, new_version: int) -> list[int]:
    """Flag links whose mention a correction removed or changed; returns their ids.

    The link keeps its times. If the words in its range changed and none of the term's
    labels can still be found there, ``review`` says what changed and an accepted link goes
    back to "suggested", so an editor looks at it again (links page, ``oralhist link list``).
    """
    from oralhist.editorial.view import text_in_range

    flagged = []
    for ln, t in s.exec(select(Link, Term).join(Term, Term.id == Link.term_id)
                        .where(Link.interview_id == interview_id)).all():
        before = text_in_range(old_segments, ln.start_ms, ln.end_ms)
        after = text_in_range(new_segments, ln.start_ms, ln.end_ms)
        if tokens(before) == tokens(after):
            continue
        ln.quote = after  # the staff copy follows the newest version (outputs derive theirs: view.derive)
        s.add(ln)
        toks = list(keys(after))
        labels = [t.label, *(t.alt_labels or [])]
        still = any(_contains(toks, list(keys(lab))) for lab in labels if tokens(lab))
        if still:
            continue
        ln.review = f"v{new_version} : « {before[:120]} » → « {after[:120]} »"
        if ln.status == LinkStatus.accepted:
            ln.status = LinkStatus.suggested
        s.add(ln)
        flagged.append(ln.id)
    return flagged


def _contains(toks: list, sub: list) -> bool:
    n = len(sub)
    return any(toks[i:i + n] == sub for i in range(len(toks) - n + 1))
