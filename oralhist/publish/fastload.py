"""Read the whole archive for publishing in a few SQL queries (no ORM objects).

``oralhist.view.load_interview`` reads one interview with the ORM: right for the CLI and
the editor, but ~0.1 s per interview, too slow to republish 500 interviews in seconds.
This module reads every table once with plain SQL rows, gives each interview a fingerprint
(a hash of every row that can change its public pages), and builds the same
``InterviewView`` as ``consent.load_for_public`` (a test checks they are equal) only for
the interviews whose fingerprint changed.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Optional

from sqlalchemy import text

from oralhist.view import (derive, pick_current, ConsentView, InterviewView, LinkView, RecordingView, SegmentView, SpeakerView, TopicView,
                           WordView)


@dataclass
class Raw:
    interview: dict
    consent: Optional[dict] = None
    redactions: list = field(default_factory=list)
    recordings: list = field(default_factory=list)
    derivatives: list = field(default_factory=list)
    transcript: Optional[dict] = None
    segments: list = field(default_factory=list)
    words: Optional[list] = None  # filled by load_words for the interviews that are rebuilt
    words_digest: tuple = ()
    speakers: list = field(default_factory=list)
    topics: list = field(default_factory=list)
    links: list = field(default_factory=list)
    persons: dict = field(default_factory=dict)
    museum: Optional[str] = None
    fingerprint: str = ""


def _rows(conn, sql: str, **params) -> list[dict]:
    res = conn.execute(text(sql), params)
    keys = list(res.keys())
    return [dict(zip(keys, row)) for row in res.fetchall()]


def _val(v):
    return v.value if hasattr(v, "value") else v


def _scope(v) -> str:
    """Enums are stored by name ("on_site"); the views use values ("on-site")."""
    from oralhist.records import ConsentScope

    if hasattr(v, "value"):
        return v.value
    return ConsentScope[v].value if v in ConsentScope.__members__ else str(v)


def load_raw(ws) -> dict[str, Raw]:
    """Every interview's rows, keyed by interview id (ordered by id)."""
    from oralhist import db

    db.migrate(ws)
    engine = db.engine_for(ws)
    with engine.connect() as conn:
        interviews = _rows(conn, "SELECT * FROM interview ORDER BY id")
        persons = {p["id"]: p for p in _rows(conn, "SELECT id, name, pseudonym FROM person")}
        museums = {m["id"]: m["name"] for m in _rows(conn, "SELECT id, name FROM museum")}
        out: dict[str, Raw] = {}
        for iv in interviews:
            r = Raw(interview=iv, museum=museums.get(iv["museum_id"]))
            for pid in (iv["narrator_id"], iv["interviewer_id"]):
                if pid in persons:
                    r.persons[pid] = persons[pid]
            out[iv["id"]] = r
        for c in _rows(conn, "SELECT * FROM consent"):
            if c["interview_id"] in out:
                out[c["interview_id"]].consent = c
        for x in _rows(conn, "SELECT interview_id, start_ms, end_ms, reason FROM redaction ORDER BY start_ms, id"):
            if x["interview_id"] in out:
                out[x["interview_id"]].redactions.append(x)
        for x in _rows(conn, "SELECT * FROM recording ORDER BY part, id"):
            if x["interview_id"] in out:
                out[x["interview_id"]].recordings.append(x)
        for x in _rows(conn, "SELECT interview_id, kind, path, sha256 FROM derivative ORDER BY kind"):
            if x["interview_id"] in out:
                out[x["interview_id"]].derivatives.append(x)
        # Current transcript for publishing: newest approved, else newest (view.current_transcript).
        by_iv = defaultdict(list)
        for t in _rows(conn, "SELECT id, interview_id, version, status, model FROM transcript"):
            by_iv[t["interview_id"]].append(t)
        current: dict[int, str] = {}
        for iid, ts in by_iv.items():
            if iid not in out:
                continue
            t = pick_current([dict(x, status=_val(x["status"])) for x in ts], prefer_approved=True)
            out[iid].transcript = t
            current[t["id"]] = iid
        seg_ids: dict[int, str] = {}
        for x in _rows(conn, "SELECT id, transcript_id, idx, start_ms, end_ms, text, speaker_id, flag FROM segment "
                             "ORDER BY transcript_id, idx"):
            iid = current.get(x["transcript_id"])
            if iid is not None:
                out[iid].segments.append(x)
                seg_ids[x["id"]] = iid
        # Words are not read here (they are most of the archive): an aggregate per transcript
        # goes into the fingerprint. Words are never edited in place — a correction makes a
        # new transcript version (a new id, in the fingerprint) — so this catches every change.
        for w in conn.execute(text("SELECT transcript_id, count(*), max(id), sum(start_ms), sum(end_ms), "
                                   "sum(length(text)), coalesce(sum(probability), 0.0) FROM word GROUP BY transcript_id")):
            iid = current.get(w[0])
            if iid is not None:
                out[iid].words_digest = tuple(w)
        for x in _rows(conn, "SELECT id, interview_id, label, person_id, name, role FROM speaker ORDER BY label"):
            if x["interview_id"] in out:
                r = out[x["interview_id"]]
                r.speakers.append(x)
                if x["person_id"] in persons:
                    r.persons[x["person_id"]] = persons[x["person_id"]]
        for x in _rows(conn, "SELECT interview_id, version, source, start_ms, end_ms, title, synopsis, keywords, "
                             "partial_transcript FROM topicsegment ORDER BY start_ms, id"):
            if x["interview_id"] in out:
                out[x["interview_id"]].topics.append(x)
        for x in _rows(conn, "SELECT l.id, l.interview_id, l.term_id, l.start_ms, l.end_ms, l.quote, l.confidence, l.review, "
                             "l.status, t.label, t.kind, t.uri, t.inventory_number FROM link l JOIN term t "
                             "ON l.term_id = t.id ORDER BY l.start_ms, l.id"):
            if x["interview_id"] in out:
                out[x["interview_id"]].links.append(x)
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


def load_words(ws, raws: list[Raw]) -> None:
    """Fill ``raw.words`` for these interviews (one query per 500 transcripts)."""
    from oralhist import db

    by_tr = {r.transcript["id"]: r for r in raws if r.transcript}
    for r in raws:
        r.words = []
    ids = sorted(by_tr)
    engine = db.engine_for(ws)
    with engine.connect() as conn:
        for k in range(0, len(ids), 500):
            chunk = ids[k:k + 500]
            marks = ",".join(str(int(i)) for i in chunk)
            cur = conn.exec_driver_sql(
                "SELECT transcript_id, segment_id, idx, start_ms, end_ms, text, probability FROM word "
                f"WHERE transcript_id IN ({marks}) ORDER BY transcript_id, idx")
            for w in cur.fetchall():
                by_tr[w[0]].words.append(tuple(w))


def _keywords(v):
    if isinstance(v, str):
        import json

        try:
            v = json.loads(v)
        except ValueError:
            v = [v]
    return tuple(v or ())


def _channel_lufs(v):
    if isinstance(v, str):
        import json

        v = json.loads(v)
    return tuple(v) if v else None


def build_view(r: Raw) -> InterviewView:
    """The ``InterviewView`` that ``consent.load_for_public`` returns for this interview."""
    iv = r.interview

    def pname(pid):
        p = r.persons.get(pid)
        return p["name"] if p else None

    spk_name = {sp["id"]: (pname(sp["person_id"]) or sp["name"]) for sp in r.speakers}
    spk_label = {sp["id"]: sp["label"] for sp in r.speakers}
    words_by_seg = defaultdict(list)
    for w in r.words or ():
        words_by_seg[w[1]].append(WordView(w[3], w[4], w[5], w[6]))
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
        topics = [TopicView(t["start_ms"], t["end_ms"], t["title"], t["synopsis"], _keywords(t["keywords"]),
                            t["partial_transcript"], t["source"] or "machine")
                  for t in sorted((t for t in r.topics if t["version"] == newest), key=lambda t: t["start_ms"])]
    links = tuple(LinkView(id=x["id"], term_id=x["term_id"], term_label=x["label"], kind=_val(x["kind"]),
                           start_ms=x["start_ms"], end_ms=x["end_ms"], quote=x["quote"], status=_val(x["status"]),
                           confidence=x["confidence"], uri=x["uri"], inventory_number=x["inventory_number"],
                           review=x["review"])
                  for x in r.links)
    reds = tuple((x["start_ms"], x["end_ms"], x["reason"]) for x in r.redactions)
    c = r.consent
    if c:
        emb = c["embargo_until"]
        consent = ConsentView(scope=_scope(c["scope"]), embargo_until=str(emb) if emb else None,
                              anonymise=bool(c["anonymise"]), form=c["form_path"], redactions=reds)
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
            offset_ms=x["offset_ms"], loudness_lufs=x["loudness_lufs"], channel_lufs=_channel_lufs(x["channel_lufs"]))
            for x in r.recordings),
        consent=consent,
        speakers=tuple(SpeakerView(label=sp["label"], name=spk_name.get(sp["id"]), role=_val(sp["role"]),
                                   talk_ms=talk.get(sp["id"], 0)) for sp in r.speakers),
        transcript_version=t["version"] if t else None,
        transcript_status=_val(t["status"]) if t else None,
        model=t["model"] if t else None,
        segments=tuple(segments), topics=tuple(topics), links=links,
        extra={"narrator_pseudonym": narrator["pseudonym"] if narrator else None,
               "secret": ",".join(x["sha256"] for x in r.recordings)},
    ))
