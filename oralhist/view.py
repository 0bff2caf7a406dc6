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
            topics=[asdict(t) for t in self.topics],
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


def publication_note(s: Session, interview_id: str) -> Optional[str]:
    """French line for staff when the site is older than the newest approved version, else None."""
    from oralhist.records import StageRun

    run = s.exec(select(StageRun).where(StageRun.interview_id == interview_id, StageRun.stage == "publish")).first()
    if run is None:
        return None
    published = (run.options or {}).get("transcript_version")
    newest = s.exec(select(Transcript.version).where(Transcript.interview_id == interview_id,
                                                     Transcript.status == TranscriptStatus.approved)
                    .order_by(Transcript.version.desc())).first()
    if newest is None or published is None or newest <= published:
        return None
    return f"publié — version {published}, une version approuvée plus récente attend la publication"


def current_topics(s: Session, interview_id: str) -> list[TopicSegment]:
    rows = s.exec(select(TopicSegment).where(TopicSegment.interview_id == interview_id)).all()
    if not rows:
        return []
    newest = max(r.version for r in rows)
    return sorted((r for r in rows if r.version == newest), key=lambda r: r.start_ms)


def _person_name(s: Session, person_id: Optional[int]) -> Optional[str]:
    if person_id is None:
        return None
    p = s.get(Person, person_id)
    return p.name if p else None


def load_interview(
    s: Session,
    interview_id: str,
    *,
    version: Optional[int] = None,
    prefer_approved: bool = False,
    with_words: bool = True,
) -> InterviewView:
    iv = s.get(Interview, interview_id)
    if iv is None:
        raise NotFound(interview_id, "no such interview")
    museum = s.get(Museum, iv.museum_id).name if iv.museum_id else None
    recs = s.exec(select(Recording).where(Recording.interview_id == interview_id).order_by(Recording.part)).all()
    consent = s.exec(select(Consent).where(Consent.interview_id == interview_id)).first()
    reds = s.exec(select(Redaction).where(Redaction.interview_id == interview_id).order_by(Redaction.start_ms)).all()
    speakers = s.exec(select(Speaker).where(Speaker.interview_id == interview_id).order_by(Speaker.label)).all()
    spk_name = {sp.id: (_person_name(s, sp.person_id) or sp.name) for sp in speakers}
    spk_label = {sp.id: sp.label for sp in speakers}

    if version is not None:
        tr = s.exec(
            select(Transcript).where(Transcript.interview_id == interview_id, Transcript.version == version)
        ).first()
        if tr is None:
            raise NotFound(interview_id, f"no transcript version {version}")
    else:
        tr = current_transcript(s, interview_id, prefer_approved=prefer_approved)

    segments: list[SegmentView] = []
    talk: dict[int, int] = {}
    if tr is not None:
        segs = s.exec(select(Segment).where(Segment.transcript_id == tr.id).order_by(Segment.idx)).all()
        words_by_seg: dict[int, list[WordView]] = {}
        if with_words:
            for w in s.exec(select(Word).where(Word.transcript_id == tr.id).order_by(Word.idx)).all():
                words_by_seg.setdefault(w.segment_id, []).append(
                    WordView(w.start_ms, w.end_ms, w.text, w.probability)
                )
        for sg in segs:
            if sg.speaker_id is not None:
                talk[sg.speaker_id] = talk.get(sg.speaker_id, 0) + (sg.end_ms - sg.start_ms)
            segments.append(
                SegmentView(
                    start_ms=sg.start_ms,
                    end_ms=sg.end_ms,
                    text=sg.text,
                    speaker=spk_label.get(sg.speaker_id),
                    speaker_name=spk_name.get(sg.speaker_id) or spk_label.get(sg.speaker_id),
                    words=tuple(words_by_seg.get(sg.id, ())),
                    flag=sg.flag,
                )
            )

    links = []
    for ln, term in s.exec(
        select(Link, Term).where(Link.interview_id == interview_id, Link.term_id == Term.id).order_by(Link.start_ms)
    ).all():
        links.append(
            LinkView(
                id=ln.id,
                term_id=term.id,
                term_label=term.label,
                kind=term.kind.value if hasattr(term.kind, "value") else str(term.kind),
                start_ms=ln.start_ms,
                end_ms=ln.end_ms,
                quote=ln.quote,
                status=ln.status.value if hasattr(ln.status, "value") else str(ln.status),
                confidence=ln.confidence,
                uri=term.uri,
                inventory_number=term.inventory_number,
                review=ln.review,
            )
        )

    return derive(InterviewView(
        id=iv.id,
        title=iv.title,
        narrator=_person_name(s, iv.narrator_id),
        interviewer=_person_name(s, iv.interviewer_id),
        date=iv.date,
        place=iv.place,
        language=iv.language,
        museum=museum,
        status=iv.status,
        duration_ms=iv.duration_ms,
        summary=iv.summary,
        recordings=tuple(
            RecordingView(
                part=r.part,
                original_name=r.original_name,
                path=r.path,
                sha256=r.sha256,
                size=r.size,
                duration_ms=r.duration_ms,
                sample_rate=r.sample_rate,
                channels=r.channels,
                codec=r.codec,
                offset_ms=r.offset_ms,
                loudness_lufs=r.loudness_lufs,
                channel_lufs=tuple(r.channel_lufs) if r.channel_lufs else None,
            )
            for r in recs
        ),
        consent=ConsentView(
            scope=consent.scope.value if hasattr(consent.scope, "value") else str(consent.scope),
            embargo_until=consent.embargo_until.isoformat() if consent.embargo_until else None,
            anonymise=consent.anonymise,
            form=consent.form_path,
            redactions=tuple((r.start_ms, r.end_ms, r.reason) for r in reds),
        )
        if consent
        else ConsentView(scope="none", redactions=tuple((r.start_ms, r.end_ms, r.reason) for r in reds)),
        speakers=tuple(
            SpeakerView(
                label=sp.label,
                name=spk_name.get(sp.id),
                role=sp.role.value if hasattr(sp.role, "value") else sp.role,
                talk_ms=talk.get(sp.id, 0),
            )
            for sp in speakers
        ),
        transcript_version=tr.version if tr else None,
        transcript_status=(tr.status.value if hasattr(tr.status, "value") else tr.status) if tr else None,
        model=tr.model if tr else None,
        segments=tuple(segments),
        topics=tuple(
            TopicView(t.start_ms, t.end_ms, t.title, t.synopsis, tuple(t.keywords or ()), t.partial_transcript,
                      t.source or "machine")
            for t in current_topics(s, interview_id)
        ),
        links=tuple(links),
    ))


def list_interviews(s: Session) -> list[InterviewView]:
    ids = s.exec(select(Interview.id).order_by(Interview.id)).all()
    return [load_interview(s, i, with_words=False) for i in ids]


# ------------------------------------------------------------------ one source of text
#
# Every text taken from a transcript (link quotes, machine-made topic text, speaker names
# shown to readers) is derived here from the segments of the version the view holds, at
# read time, from the time ranges. ``load_interview`` and the publisher's bulk reader
# (publish/fastload.py) both end with ``derive``, so staff and public outputs cannot differ
# and no stale copy of recognised text is ever shown.

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


def text_in_range(segments, start_ms: int, end_ms: int) -> str:
    """The words of ``segments`` (with word times when known) that fall within the range."""
    out = []
    for sg in segments:
        if sg.end_ms <= start_ms or sg.start_ms >= end_ms:
            if not (sg.start_ms == sg.end_ms == start_ms):
                continue
        if sg.words:
            out.extend(w.text.strip() for w in sg.words
                       if w.end_ms > start_ms and w.start_ms < end_ms or w.start_ms == start_ms)
        else:
            out.append(sg.text.strip())
    return " ".join(t for t in out if t)


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
    from oralhist.topics import Sentence, keywords, partial, synopsis, title_from

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
    have = set(_WORD.findall(joined.casefold()))
    return all(w in have for w in _WORD.findall(f"{t.title} {' '.join(t.keywords)}".casefold()))


def derive(view: "InterviewView") -> "InterviewView":
    """``view`` with every transcript-derived text recomputed from its own segments."""
    from dataclasses import replace

    from oralhist.topics import sentences_from_segments

    names = display_names(view.speakers, view.segments)
    segments = tuple(replace(sg, speaker_name=names.get(sg.speaker, sg.speaker_name)) if sg.speaker else sg
                     for sg in view.segments)
    speakers = tuple(replace(sp, name=names.get(sp.label, sp.name)) for sp in view.speakers)
    links = tuple(replace(l, quote=text_in_range(view.segments, l.start_ms, l.end_ms) or l.quote) for l in view.links)
    topics = list(view.topics)
    if view.segments and topics:
        interviewers = [sp.label for sp in view.speakers if sp.role == "interviewer"]
        sents = sentences_from_segments(view.segments, interviewers)
        language = (view.language or "fr").split("-")[0].lower()
        for k, t in enumerate(topics):
            if t.source != "machine":
                continue  # an editor's own words are kept as written
            group = [s for s in sents if t.start_ms <= s.start_ms < max(t.end_ms, t.start_ms + 1)]
            if not group:
                continue
            if _still_true(t, group):
                continue  # every word of the stored text is still said in its range: nothing stale
            key = tuple(tuple(getattr(s, f) for f in s.__dataclass_fields__) for s in group)
            title, syn, kws, part = _machine_topic_text(key, language)
            topics[k] = replace(t, title=title, synopsis=syn, keywords=kws, partial_transcript=part)
    return replace(view, segments=segments, speakers=speakers, links=links, topics=tuple(topics))
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
