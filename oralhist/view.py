"""Read model of one interview: plain frozen dataclasses built from the database.

Every output (``show --json``, exports, the editor, the public site) reads an
``InterviewView``. Public outputs first pass it through ``consent.public_view`` — the one
place where consent is enforced — and only ever see the filtered copy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
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
    """The newest version; with ``prefer_approved`` the newest approved one if any (publishing)."""
    q = select(Transcript).where(Transcript.interview_id == interview_id)
    if prefer_approved:
        approved = s.exec(
            q.where(Transcript.status == TranscriptStatus.approved).order_by(Transcript.version.desc())
        ).first()
        if approved:
            return approved
    return s.exec(q.order_by(Transcript.version.desc())).first()


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
            )
        )

    return InterviewView(
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
            TopicView(t.start_ms, t.end_ms, t.title, t.synopsis, tuple(t.keywords or ()), t.partial_transcript)
            for t in current_topics(s, interview_id)
        ),
        links=tuple(links),
    )


def list_interviews(s: Session) -> list[InterviewView]:
    ids = s.exec(select(Interview.id).order_by(Interview.id)).all()
    return [load_interview(s, i, with_words=False) for i in ids]


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
