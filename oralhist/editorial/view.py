"""Read model of one interview: plain frozen dataclasses built from the database.

Every output (``show --json``, exports, the editor, the public site) reads an
``InterviewView``. Public outputs first pass it through ``consent.public_view`` — the one
place where consent is enforced — and only ever see the filtered copy.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Optional

from sqlmodel import Session, select

from oralhist.errors import NotFound
from oralhist.records import (
    Consent,
    Interview,
    Link,
    Museum,
    Person,
    Recording,
    Redaction,
    Segment,
    Speaker,
    Term,
    TopicSegment,
    Transcript,
    TranscriptStatus,
    Word,
)


@dataclass(frozen=True)
class WordView:
    start_ms: int
    end_ms: int
    text: str
    probability: Optional[float] = None


@dataclass(frozen=True)
class SegmentView:
    start_ms: int
    end_ms: int
    text: str
    speaker: Optional[str] = None  # label, e.g. SPEAKER_1
    speaker_name: Optional[str] = None  # display name (person, pseudonym or label)
    words: tuple[WordView, ...] = ()
    flag: Optional[str] = None


@dataclass(frozen=True)
class SpeakerView:
    label: str
    name: Optional[str] = None
    role: Optional[str] = None
    talk_ms: int = 0


@dataclass(frozen=True)
class TopicView:
    start_ms: int
    end_ms: int
    title: str
    synopsis: str = ""
    keywords: tuple[str, ...] = ()
    partial_transcript: str = ""
    source: str = "machine"  # machine: text follows the transcript; editor: kept as written
    made_from: Optional[int] = field(default=None, compare=False)  # transcript id its machine text was made from


@dataclass(frozen=True)
class LinkView:
    id: int
    term_id: int
    term_label: str
    kind: str
    start_ms: int
    end_ms: int
    quote: str
    status: str
    confidence: float = 1.0
    uri: Optional[str] = None
    inventory_number: Optional[str] = None
    review: Optional[str] = None  # set when a correction changed its mention: not public until reviewed
    # issue 25: the term's equivalents in other vocabularies, and where a place is
    same_as: tuple[str, ...] = ()
    latitude: Optional[float] = None
    longitude: Optional[float] = None
    insee: Optional[str] = None


@dataclass(frozen=True)
class RecordingView:
    part: int
    original_name: str
    path: str
    sha256: str
    size: int
    duration_ms: int
    sample_rate: int
    channels: int
    codec: str
    offset_ms: int
    loudness_lufs: Optional[float] = None
    channel_lufs: Optional[tuple[float, ...]] = None


@dataclass(frozen=True)
class ConsentView:
    scope: str
    embargo_until: Optional[str] = None
    anonymise: bool = False
    form: Optional[str] = None
    redactions: tuple[tuple[int, int, str], ...] = ()  # (start_ms, end_ms, reason)
    listing: str = "none"  # issue 24: "catalogue" lists a non-public interview (catalogue fields only)


@dataclass(frozen=True)
class InterviewView:
    id: str
    title: str
    narrator: Optional[str]
    interviewer: Optional[str]
    date: Optional[str]
    place: Optional[str]
    language: str
    museum: Optional[str]
    status: str
    duration_ms: int
    summary: Optional[str] = None
    recordings: tuple[RecordingView, ...] = ()
    consent: Optional[ConsentView] = None
    speakers: tuple[SpeakerView, ...] = ()
    transcript_version: Optional[int] = None
    transcript_status: Optional[str] = None
    model: Optional[str] = None
    segments: tuple[SegmentView, ...] = ()
    topics: tuple[TopicView, ...] = ()
    links: tuple[LinkView, ...] = ()
    extra: dict = field(default_factory=dict, compare=False)
    transcript_id: Optional[int] = field(default=None, compare=False)  # the row id of transcript_version

    def summary_dict(self) -> dict:
        """The stable object of ``oralhist list --json``."""
        return {
            "id": self.id,
            "title": self.title,
            "narrator": self.narrator,
            "date": self.date,
            "language": self.language,
            "status": self.status,
            "museum": self.museum,
        }

    def to_dict(self, words: bool = False) -> dict:
        """The stable object of ``oralhist show ID --json``."""
        d = self.summary_dict()
        d.update(
            interviewer=self.interviewer,
            place=self.place,
            duration_ms=self.duration_ms,
            recordings=[asdict(r) for r in self.recordings],
            consent=asdict(self.consent) if self.consent else None,
            speakers=[asdict(s) for s in self.speakers],
            transcript=None
            if self.transcript_version is None
            else {
                "version": self.transcript_version,
                "status": self.transcript_status,
                "model": self.model,
                "segments": [
                    {
                        "speaker": s.speaker_name or s.speaker,
                        "start_ms": s.start_ms,
                        "end_ms": s.end_ms,
                        "text": s.text,
                        **({"words": [asdict(w) for w in s.words]} if words else {}),
                    }
                    for s in self.segments
                ],
            },
            topics=[{k: v for k, v in asdict(t).items() if k != "made_from"} for t in self.topics],
            links=[
                {
                    "term": l.term_label,
                    "kind": l.kind,
                    "start_ms": l.start_ms,
                    "end_ms": l.end_ms,
                    "quote": l.quote,
                    "status": l.status,
                    "confidence": l.confidence,
                }
                for l in self.links
            ],
        )
        return d


def current_transcript(s: Session, interview_id: str, *, prefer_approved: bool = False) -> Optional[Transcript]:
    """The version outputs use: see ``pick_current`` (the one rule, documented in docs/transcribe.md)."""
    rows = s.exec(select(Transcript.id, Transcript.version, Transcript.status)
                  .where(Transcript.interview_id == interview_id)).all()
    best = pick_current([{"id": r[0], "version": r[1], "status": r[2]} for r in rows], prefer_approved=prefer_approved)
    return s.get(Transcript, best["id"]) if best else None


def current_topics(s: Session, interview_id: str) -> list[TopicSegment]:
    rows = s.exec(select(TopicSegment).where(TopicSegment.interview_id == interview_id)).all()
    if not rows:
        return []
    newest = max(r.version for r in rows)
    return sorted((r for r in rows if r.version == newest), key=lambda r: r.start_ms)


# ------------------------------------------------------------------ reading (one path, bulk or one)
#
# The one read path of interviews: a few plain SQL queries over every table (no ORM objects),
# for one interview (``load_interview``), a list (``load_interviews``) or the whole archive
# (the publisher: ``read_rows`` + ``read_words`` + ``build_view``, which lets it fingerprint
# every interview's rows and build views only for the changed ones). Every view ends in
# ``derive``: staff and public outputs are made by the same code from the same rows.


@dataclass
class Raw:
    """Every row of one interview that its views are made of (plain dicts)."""

    interview: dict
    consent: Optional[dict] = None
    redactions: list = field(default_factory=list)
    recordings: list = field(default_factory=list)
    derivatives: list = field(default_factory=list)
    transcript: Optional[dict] = None
    segments: list = field(default_factory=list)
    words: Optional[list] = None  # filled by read_words
    words_digest: tuple = ()
    speakers: list = field(default_factory=list)
    topics: list = field(default_factory=list)
    links: list = field(default_factory=list)
    persons: dict = field(default_factory=dict)
    museum: Optional[str] = None
    fingerprint: str = ""


def _conn(s):
    """A connection in the session's transaction (pending ORM changes flushed first)."""
    if isinstance(s, Session):
        s.flush()
        return s.connection()
    return s


def _rows(conn, sql: str, ids=None, **params) -> list[dict]:
    from sqlalchemy import bindparam, text

    stmt = text(sql)
    if ids is not None:
        stmt = stmt.bindparams(bindparam("ids", expanding=True))
        params["ids"] = list(ids)
    res = conn.execute(stmt, params)
    keys = list(res.keys())
    return [dict(zip(keys, row)) for row in res.fetchall()]


def _val(v):
    return v.value if hasattr(v, "value") else v


def scope_value(v) -> str:
    """Enums are stored by name ("on_site"); the views use values ("on-site")."""
    from oralhist.records import ConsentScope

    if hasattr(v, "value"):
        return v.value
    return ConsentScope[v].value if v in ConsentScope.__members__ else str(v)


# Over 80 lines on purpose: the read model's few SQL queries, one per table, batched for the whole archive;
# kept together so they can be read and counted at once.
def read_rows(s, ids=None, *, prefer_approved: bool = False, version: Optional[int] = None,
              fingerprints: bool = False) -> dict[str, Raw]:
    """The rows of these interviews (all when ``ids`` is None), keyed by id, ordered by id.

    The transcript is the one ``pick_current`` chooses (or ``version``). Words are not read
    (``read_words``). With ``fingerprints``, each gets a hash of every row that can change its
    outputs (words through an aggregate per transcript).
    """
    import hashlib

    conn = _conn(s)
    where = "" if ids is None else " WHERE {col} IN :ids"
    if ids is not None:
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}

    def q(sql, col="interview_id"):
        if ids is None:
            return _rows(conn, sql.replace("{where}", "").replace("{and}", ""))
        return _rows(conn, sql.replace("{where}", where.format(col=col)).replace("{and}", f" AND {col} IN :ids"), ids)

    interviews = q("SELECT * FROM interview{where} ORDER BY id", "id")
    persons = {p["id"]: p for p in _rows(conn, "SELECT id, name, pseudonym FROM person")}
    museums = {m["id"]: m["name"] for m in _rows(conn, "SELECT id, name FROM museum")}
    out: dict[str, Raw] = {}
    for iv in interviews:
        r = Raw(interview=iv, museum=museums.get(iv["museum_id"]))
        for pid in (iv["narrator_id"], iv["interviewer_id"]):
            if pid in persons:
                r.persons[pid] = persons[pid]
        out[iv["id"]] = r
    if not out:
        return out
    for c in q("SELECT * FROM consent{where}"):
        if c["interview_id"] in out:
            out[c["interview_id"]].consent = c
    for x in q("SELECT interview_id, start_ms, end_ms, reason FROM redaction{where} ORDER BY start_ms, id"):
        out[x["interview_id"]].redactions.append(x)
    for x in q("SELECT * FROM recording{where} ORDER BY part, id"):
        out[x["interview_id"]].recordings.append(x)
    for x in q("SELECT interview_id, kind, path, sha256 FROM derivative{where} ORDER BY kind"):
        out[x["interview_id"]].derivatives.append(x)
    by_iv: dict = {}
    for t in q("SELECT id, interview_id, version, status, model, created_at FROM transcript{where}"):
        by_iv.setdefault(t["interview_id"], []).append(dict(t, status=_val(t["status"])))
    current: dict[int, str] = {}
    for iid, ts in by_iv.items():
        if version is not None:
            t = next((x for x in ts if x["version"] == version), None)
        else:
            t = pick_current(ts, prefer_approved=prefer_approved)
        if t is not None:
            out[iid].transcript = t
            current[t["id"]] = iid
    if version is not None:
        missing = [iid for iid in out if out[iid].transcript is None]
        if missing:
            raise NotFound(missing[0], f"no transcript version {version}")
    if current:
        sel = ("SELECT id, transcript_id, idx, start_ms, end_ms, text, speaker_id, flag FROM segment{w} "
               "ORDER BY transcript_id, idx")
        rows = (_rows(conn, sel.format(w=""))
                if ids is None else _rows(conn, sel.format(w=" WHERE transcript_id IN :ids"), list(current)))
        for x in rows:
            iid = current.get(x["transcript_id"])
            if iid is not None:
                out[iid].segments.append(x)
    if fingerprints and current:
        # Words are never edited in place — a correction makes a new transcript version (a
        # new id, in the fingerprint) — so an aggregate per transcript catches every change.
        agg = ("SELECT transcript_id, count(*), max(id), sum(start_ms), sum(end_ms), sum(length(text)), "
               "coalesce(sum(probability), 0.0) FROM word{w} GROUP BY transcript_id")
        from sqlalchemy import bindparam, text

        stmt = text(agg.format(w="" if ids is None else " WHERE transcript_id IN :ids"))
        if ids is not None:
            stmt = stmt.bindparams(bindparam("ids", expanding=True))
        for w in conn.execute(stmt, {} if ids is None else {"ids": list(current)}):
            iid = current.get(w[0])
            if iid is not None:
                out[iid].words_digest = tuple(w)
    for x in q("SELECT id, interview_id, label, person_id, name, role FROM speaker{where} ORDER BY label"):
        r = out[x["interview_id"]]
        r.speakers.append(x)
        if x["person_id"] in persons:
            r.persons[x["person_id"]] = persons[x["person_id"]]
    for x in q("SELECT * FROM topicsegment{where} ORDER BY start_ms, id"):
        out[x["interview_id"]].topics.append(x)
    for x in q("SELECT l.id, l.interview_id, l.term_id, l.start_ms, l.end_ms, l.quote, l.confidence, l.review, "
               "l.status, t.label, t.kind, t.uri, t.inventory_number, t.same_as, t.latitude, t.longitude, t.insee "
               "FROM link l JOIN term t "
               "ON l.term_id = t.id{where} ORDER BY l.start_ms, l.id", "l.interview_id"):
        out[x["interview_id"]].links.append(x)
    if fingerprints:
        for r in out.values():
            h = hashlib.sha256()
            # status/updated_at change when a stage (publish itself) marks the interview done.
            iv = {k: v for k, v in r.interview.items() if k not in ("status", "updated_at")}
            for part in (iv, r.consent, r.redactions, r.recordings, r.derivatives, r.transcript, r.segments,
                         r.speakers, r.topics, r.links, sorted(r.persons.items()), r.museum):
                h.update(repr(part).encode("utf-8", "surrogatepass"))
                h.update(b"\x00")
            h.update(repr(r.words_digest).encode())
            r.fingerprint = h.hexdigest()
    return out


def read_words(s, raws) -> None:
    """Fill ``raw.words`` for these interviews (one query per 500 transcripts)."""
    raws = list(raws)
    by_tr = {r.transcript["id"]: r for r in raws if r.transcript}
    for r in raws:
        r.words = []
    ids = sorted(by_tr)
    conn = _conn(s)
    for k in range(0, len(ids), 500):
        chunk = ids[k:k + 500]
        marks = ",".join(str(int(i)) for i in chunk)
        cur = conn.exec_driver_sql(
            "SELECT transcript_id, segment_id, idx, start_ms, end_ms, text, probability FROM word "
            f"WHERE transcript_id IN ({marks}) ORDER BY transcript_id, idx")
        for w in cur.fetchall():
            by_tr[w[0]].words.append(tuple(w))


def _json_tuple(v):
    if isinstance(v, str):
        import json

        try:
            v = json.loads(v)
        except ValueError:
            v = [v]
    return tuple(v) if v else ()


def build_view(r: Raw) -> InterviewView:
    """The ``InterviewView`` of these rows, with every transcript-derived text derived."""
    iv = r.interview

    def pname(pid):
        p = r.persons.get(pid)
        return p["name"] if p else None

    spk_name = {sp["id"]: (pname(sp["person_id"]) or sp["name"]) for sp in r.speakers}
    spk_label = {sp["id"]: sp["label"] for sp in r.speakers}
    words_by_seg: dict = {}
    for w in r.words or ():
        words_by_seg.setdefault(w[1], []).append(WordView(w[3], w[4], w[5], w[6]))
    talk: dict[int, int] = {}
    segments = []
    for sg in r.segments:
        if sg["speaker_id"] is not None:
            talk[sg["speaker_id"]] = talk.get(sg["speaker_id"], 0) + (sg["end_ms"] - sg["start_ms"])
        segments.append(SegmentView(
            start_ms=sg["start_ms"], end_ms=sg["end_ms"], text=sg["text"], speaker=spk_label.get(sg["speaker_id"]),
            speaker_name=spk_name.get(sg["speaker_id"]) or spk_label.get(sg["speaker_id"]),
            words=tuple(words_by_seg.get(sg["id"], ())), flag=sg["flag"]))
    topics = []
    if r.topics:
        newest = max(t["version"] for t in r.topics)
        topics = [TopicView(t["start_ms"], t["end_ms"], t["title"], t["synopsis"], _json_tuple(t["keywords"]),
                            t["partial_transcript"], t["source"] or "machine", t.get("made_from"))
                  for t in sorted((t for t in r.topics if t["version"] == newest), key=lambda t: t["start_ms"])]
    links = tuple(LinkView(id=x["id"], term_id=x["term_id"], term_label=x["label"], kind=_val(x["kind"]),
                           start_ms=x["start_ms"], end_ms=x["end_ms"], quote=x["quote"], status=_val(x["status"]),
                           confidence=x["confidence"], uri=x["uri"], inventory_number=x["inventory_number"],
                           review=x["review"], same_as=_json_tuple(x.get("same_as")),
                           latitude=x.get("latitude"), longitude=x.get("longitude"), insee=x.get("insee"))
                  for x in r.links)
    reds = tuple((x["start_ms"], x["end_ms"], x["reason"]) for x in r.redactions)
    c = r.consent
    if c:
        emb = c["embargo_until"]
        consent = ConsentView(scope=scope_value(c["scope"]), embargo_until=str(emb) if emb else None,
                              anonymise=bool(c["anonymise"]), form=c["form_path"], redactions=reds,
                              listing=c["listing"] or "none")
    else:
        consent = ConsentView(scope="none", redactions=reds)
    t = r.transcript
    narrator = r.persons.get(iv["narrator_id"])
    return derive(InterviewView(
        id=iv["id"], title=iv["title"], narrator=pname(iv["narrator_id"]), interviewer=pname(iv["interviewer_id"]),
        date=iv["date"], place=iv["place"], language=iv["language"], museum=r.museum, status=iv["status"],
        duration_ms=iv["duration_ms"], summary=iv["summary"],
        recordings=tuple(RecordingView(
            part=x["part"], original_name=x["original_name"], path=x["path"], sha256=x["sha256"], size=x["size"],
            duration_ms=x["duration_ms"], sample_rate=x["sample_rate"], channels=x["channels"], codec=x["codec"],
            offset_ms=x["offset_ms"], loudness_lufs=x["loudness_lufs"],
            channel_lufs=_json_tuple(x["channel_lufs"]) or None)
            for x in r.recordings),
        consent=consent,
        speakers=tuple(SpeakerView(label=sp["label"], name=spk_name.get(sp["id"]), role=_val(sp["role"]),
                                   talk_ms=talk.get(sp["id"], 0)) for sp in r.speakers),
        transcript_version=t["version"] if t else None,
        transcript_status=_val(t["status"]) if t else None,
        model=t["model"] if t else None,
        transcript_id=t["id"] if t else None,
        segments=tuple(segments), topics=tuple(topics), links=links,
        extra={"narrator_pseudonym": narrator["pseudonym"] if narrator else None,
               "secret": ",".join(x["sha256"] for x in r.recordings),
               "public_key": iv.get("public_key")},
    ))


def load_interviews(s, ids=None, *, prefer_approved: bool = False, with_words: bool = True) -> dict[str, InterviewView]:
    """Views of these interviews (all when ``ids`` is None) in a few bulk queries, keyed by id."""
    raws = read_rows(s, ids, prefer_approved=prefer_approved)
    if with_words:
        read_words(s, raws.values())
    return {iid: build_view(r) for iid, r in raws.items()}


def load_interview(
    s: Session,
    interview_id: str,
    *,
    version: Optional[int] = None,
    prefer_approved: bool = False,
    with_words: bool = True,
) -> InterviewView:
    """One interview's view: ``load_interviews`` for one id (or one transcript ``version``)."""
    raws = read_rows(s, [interview_id], prefer_approved=prefer_approved, version=version)
    if interview_id not in raws:
        raise NotFound(interview_id, "no such interview")
    if with_words:
        read_words(s, raws.values())
    return build_view(raws[interview_id])


def list_interviews(s: Session) -> list[InterviewView]:
    return list(load_interviews(s, with_words=False).values())


# ------------------------------------------------------------------ one source of text
#
# Every text taken from a transcript (link quotes, machine-made topic text, speaker names
# shown to readers) is derived here from the segments of the version the view holds, at
# read time, from the time ranges. Every view is built by ``build_view``, which ends with
# ``derive``, so staff and public outputs cannot differ and no stale copy of recognised
# text is ever shown.

_SPEAKER_LABEL = re.compile(r"^SPEAKER_(\d+)$")
ROLE_NAMES = {"narrator": "Personne interrogée", "interviewer": "Enquêteur·rice"}


def pick_current(versions, *, prefer_approved: bool = False):
    """The one rule for "current", over (version, status) pairs (or rows with both).

    Publishing (``prefer_approved``): the newest approved version, else as below.
    Otherwise: the newest version an editor made or touched (corrected or approved); a
    newer machine version (``transcribe --force``) never displaces it. With no editor's
    version, the newest machine version.
    """
    def st(v):
        x = v["status"] if isinstance(v, dict) else v.status
        return x.value if hasattr(x, "value") else str(x)

    def ver(v):
        return v["version"] if isinstance(v, dict) else v.version

    vs = list(versions)
    if not vs:
        return None
    if prefer_approved:
        approved = [v for v in vs if st(v) == "approved"]
        if approved:
            return max(approved, key=ver)
    edited = [v for v in vs if st(v) != "machine"]
    return max(edited or vs, key=ver)


def text_in_range(segments, start_ms: int, end_ms: int, *, _index=None) -> str:
    """The words of ``segments`` (with word times when known) that fall within the range."""
    out = []
    lo, hi = (0, len(segments)) if _index is None else _index.span(start_ms, end_ms)
    for k in range(lo, hi):
        sg = segments[k]
        if sg.end_ms <= start_ms or sg.start_ms >= end_ms:
            if not (sg.start_ms == sg.end_ms == start_ms):
                continue
        if sg.words:
            out.extend(w.text.strip() for w in sg.words
                       if w.end_ms > start_ms and w.start_ms < end_ms or w.start_ms == start_ms)
        else:
            out.append(sg.text.strip())
    return " ".join(t for t in out if t)


class _SpanIndex:
    """Which slice of time-ordered segments can overlap a range (bisect, not a scan of all)."""

    def __init__(self, segments):
        import itertools

        self.starts = [sg.start_ms for sg in segments]
        self.sorted = all(a <= b for a, b in zip(self.starts, self.starts[1:]))
        self.max_end = list(itertools.accumulate((sg.end_ms for sg in segments), max))
        self.n = len(segments)

    def span(self, start_ms: int, end_ms: int) -> tuple[int, int]:
        from bisect import bisect_left, bisect_right

        if not self.sorted:
            return 0, self.n
        # first segment that may end after start_ms (ends running-max, so sorted), last that starts by end_ms
        lo = bisect_left(self.max_end, start_ms)
        hi = bisect_right(self.starts, max(end_ms, start_ms))
        return min(lo, hi), hi


def display_names(speakers, segments) -> dict:
    """label -> name shown to readers: the person's name, else the role, else "Intervenant·e n".

    ``SPEAKER_n`` labels never reach a reader: unnamed speakers are numbered in order of
    first speech; a role is used when only one speaker holds it.
    """
    roles: dict = {}
    for sp in speakers:
        roles.setdefault(sp.role, []).append(sp.label)
    order = []
    for sg in segments:
        if sg.speaker and sg.speaker not in order:
            order.append(sg.speaker)
    for sp in speakers:
        if sp.label not in order:
            order.append(sp.label)
    names, n = {}, 0
    for label in order:
        sp = next((x for x in speakers if x.label == label), None)
        name = sp.name if sp else None
        if name and not _SPEAKER_LABEL.match(name):
            names[label] = name
        elif sp and sp.role in ROLE_NAMES and len(roles.get(sp.role, ())) == 1:
            names[label] = ROLE_NAMES[sp.role]
        else:
            n += 1
            names[label] = f"Intervenant·e {n}"
    return names


@lru_cache(maxsize=4096)
def _machine_topic_text(text_key: tuple, language: str) -> tuple:
    from oralhist.editorial.topics import Sentence, keywords, partial, synopsis, title_from

    sents = [Sentence(*x) for x in text_key]
    kws = keywords(" ".join(s.text for s in sents), language)
    return title_from(kws, sents), synopsis(sents, language), tuple(kws), partial(sents)


_WORD = re.compile(r"\w+", re.U)


def _still_true(t, group) -> bool:
    """Whether a machine topic's stored text is still made of its range's current text.

    The synopsis is extractive (whole sentences of the range, in order), the partial
    transcript a prefix of the range's text, the title and keywords words of it. If so the
    stored text holds nothing stale and is kept (recomputing costs YAKE and lemmas, ~0.1 s a
    topic); otherwise it is recomputed.
    """
    joined = " ".join(x.text for x in group)
    if t.partial_transcript and not joined.startswith(t.partial_transcript.removesuffix(" …")):
        return False
    rest = t.synopsis.removesuffix(" …").strip()
    for x in group:
        if not rest:
            break
        tx = x.text.strip()
        if rest.startswith(tx):
            rest = rest[len(tx):].lstrip()
        elif tx.startswith(rest):
            rest = ""
    if rest:
        return False
    return _words_hold(t, group)


def _words_hold(t, group) -> bool:
    """Whether the topic's title and keywords are still words said in its range."""
    have = set(_WORD.findall(" ".join(x.text for x in group).casefold()))
    return all(w in have for w in _WORD.findall(f"{t.title} {' '.join(t.keywords)}".casefold()))


def _rederive(t, group, language: str):
    """Machine text of a topic whose stored text no longer matches its range's words.

    When its title and keywords are still words of the range, only the synopsis and the
    partial transcript (which quote the range) are made again: the costly keyword extraction
    (YAKE, most of the time) is not repeated for a corrected word that is in neither.
    """
    from dataclasses import replace

    from oralhist.editorial.topics import Sentence, partial, synopsis

    if _words_hold(t, group):
        sents = [x if isinstance(x, Sentence) else Sentence(*x) for x in group]
        return replace(t, synopsis=synopsis(sents, language), partial_transcript=partial(sents))
    key = tuple(tuple(getattr(x, f) for f in x.__dataclass_fields__) for x in group)
    title, syn, kws, part = _machine_topic_text(key, language)
    return replace(t, title=title, synopsis=syn, keywords=kws, partial_transcript=part)


def derive(view: "InterviewView") -> "InterviewView":
    """``view`` with every transcript-derived text recomputed from its own segments."""
    from dataclasses import replace

    names = display_names(view.speakers, view.segments)
    segments = tuple(replace(sg, speaker_name=names.get(sg.speaker, sg.speaker_name)) if sg.speaker else sg
                     for sg in view.segments)
    speakers = tuple(replace(sp, name=names.get(sp.label, sp.name)) for sp in view.speakers)
    index = _SpanIndex(view.segments)
    links = tuple(replace(l, quote=text_in_range(view.segments, l.start_ms, l.end_ms, _index=index) or l.quote)
                  for l in view.links)
    topics = list(view.topics)
    todo = [k for k, t in enumerate(topics)
            if t.source == "machine" and (t.made_from is None or t.made_from != view.transcript_id)]
    # A machine topic made from this very transcript holds nothing stale (``index`` and each
    # saved correction store the transcript they made it from): nothing to derive.
    if view.segments and todo:
        from bisect import bisect_left

        from oralhist.editorial.topics import sentences_from_segments  # numpy, YAKE: only when something is stale

        interviewers = [sp.label for sp in view.speakers if sp.role == "interviewer"]
        sents = sentences_from_segments(view.segments, interviewers)
        starts = [x.start_ms for x in sents]
        ordered = all(a <= b for a, b in zip(starts, starts[1:]))
        language = (view.language or "fr").split("-")[0].lower()
        for k in todo:
            t = topics[k]
            hi_ms = max(t.end_ms, t.start_ms + 1)
            if ordered:
                group = sents[bisect_left(starts, t.start_ms):bisect_left(starts, hi_ms)]
            else:
                group = [x for x in sents if t.start_ms <= x.start_ms < hi_ms]
            if not group:
                continue
            if _still_true(t, group):
                continue  # every word of the stored text is still said in its range: nothing stale
            topics[k] = _rederive(t, group, language)
    return replace(view, segments=segments, speakers=speakers, links=links, topics=tuple(topics))


def speechless(s: Session, interview_ids=None) -> set[str]:
    """Interviews transcribed with no speech found (issue 21): every transcript they have is
    empty. The archive list and the import page say « aucune parole détectée », not « terminé »."""
    from sqlalchemy import func
    from sqlmodel import select

    from oralhist.records import Segment, Transcript

    q = (select(Transcript.interview_id, func.count(Segment.id))
         .join(Segment, Segment.transcript_id == Transcript.id, isouter=True).group_by(Transcript.id))
    if interview_ids is not None:
        q = q.where(Transcript.interview_id.in_(list(interview_ids)))
    spoken, seen = set(), set()
    for iid, n in s.exec(q).all():
        seen.add(iid)
        if n:
            spoken.add(iid)
    return seen - spoken


def list_summaries(s: Session) -> list[InterviewView]:
    """What ``list_interviews`` gives for the list fields (summary_dict), in three queries, not
    one load per interview: the workbench's archive page with 1,000 interviews."""
    people = dict(s.exec(select(Person.id, Person.name)).all())
    museums = dict(s.exec(select(Museum.id, Museum.name)).all())
    out = []
    for iv in s.exec(select(Interview).order_by(Interview.id)).all():
        out.append(InterviewView(
            id=iv.id, title=iv.title, narrator=people.get(iv.narrator_id), interviewer=people.get(iv.interviewer_id),
            date=iv.date, place=iv.place, language=iv.language,
            museum=museums.get(iv.museum_id) if iv.museum_id else None, status=iv.status,
            duration_ms=iv.duration_ms, summary=iv.summary))
    return out


def review_states(s: Session) -> dict[str, tuple[Optional[str], Optional[int]]]:
    """interview id -> (status of the newest transcript version, newest approved version or None)."""
    out: dict[str, tuple] = {}
    approved: dict[str, int] = {}
    for iid, version, status in s.exec(select(Transcript.interview_id, Transcript.version, Transcript.status)
                                       .order_by(Transcript.interview_id, Transcript.version)).all():
        st = status.value if hasattr(status, "value") else status
        out[iid] = st
        if st == "approved":
            approved[iid] = version
    return {iid: (st, approved.get(iid)) for iid, st in out.items()}
