"""Naming speakers: list an interview's speakers (talk time, a sample quote), rename one, set its role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class SpeakerInfo:
    label: str
    name: Optional[str]
    role: Optional[str]
    channel: Optional[int]
    talk_ms: int
    segments: int
    quote: str  # a sample of what they say (their longest segment, shortened)

    def to_dict(self) -> dict:
        return {"label": self.label, "name": self.name, "role": self.role, "channel": self.channel,
                "talk_ms": self.talk_ms, "segments": self.segments, "quote": self.quote}


def _shorten(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + " …"


def list_speakers(s, interview_id: str) -> list[SpeakerInfo]:
    """Speakers of an interview with talk time (current transcript) and a sample quote."""
    from sqlmodel import select

    from oralhist.errors import NotFound
    from oralhist.records import Interview, Person, Segment, Speaker
    from oralhist.editorial.view import current_transcript

    if s.get(Interview, interview_id) is None:
        raise NotFound(interview_id, "no such interview (see `oralhist list`)")
    speakers = s.exec(select(Speaker).where(Speaker.interview_id == interview_id).order_by(Speaker.id)).all()
    tr = current_transcript(s, interview_id)
    segs = s.exec(select(Segment).where(Segment.transcript_id == tr.id)).all() if tr else []
    out = []
    for sp in sorted(speakers, key=lambda r: (len(r.label), r.label)):
        mine = [g for g in segs if g.speaker_id == sp.id]
        person = s.get(Person, sp.person_id) if sp.person_id else None
        quote = max(mine, key=lambda g: len(g.text)).text if mine else ""
        out.append(SpeakerInfo(
            label=sp.label,
            name=(person.name if person else sp.name),
            role=sp.role.value if hasattr(sp.role, "value") else sp.role,
            channel=sp.channel,
            talk_ms=sum(g.end_ms - g.start_ms for g in mine),
            segments=len(mine),
            quote=_shorten(quote),
        ))
    return out


def _speaker(s, interview_id: str, label: str):
    from sqlmodel import select

    from oralhist.errors import BadInput, NotFound
    from oralhist.records import Interview, Speaker

    if s.get(Interview, interview_id) is None:
        raise NotFound(interview_id, "no such interview (see `oralhist list`)")
    sp = s.exec(select(Speaker).where(Speaker.interview_id == interview_id, Speaker.label == label)).first()
    if sp is None:
        labels = s.exec(select(Speaker.label).where(Speaker.interview_id == interview_id)).all()
        hint = f" (speakers: {', '.join(sorted(labels))})" if labels else " (run `oralhist diarize` first)"
        raise BadInput(label, f"no such speaker in {interview_id}{hint}")
    return sp


def _snapshot(sp) -> dict:
    return {"label": sp.label, "person_id": sp.person_id, "name": sp.name,
            "role": sp.role.value if hasattr(sp.role, "value") else sp.role}


def rename_speaker(ws, interview_id: str, label: str, name: str, *, who: str = "oralhist speakers") -> SpeakerInfo:
    """Attach a Person (found by exact name among the people of the interview's museum, else
    created) to a speaker; recorded as a Revision. No Person is changed: another interview's
    speaker of the same name keeps its Person."""
    from oralhist import db
    from oralhist.errors import BadInput
    from oralhist.records import Interview, Revision, person_id

    name = " ".join((name or "").split())
    if not name:
        raise BadInput(label, "the new name is empty")
    with db.session(ws) as s:
        sp = _speaker(s, interview_id, label)
        before = _snapshot(sp)
        sp.person_id = person_id(s, name, museum=s.get(Interview, interview_id).museum_id)  # people are per museum
        sp.name = name
        s.add(sp)
        s.add(Revision(interview_id=interview_id, kind="speaker", who=who, before=before, after=_snapshot(sp),
                       note=f"{label} renamed"))
        s.commit()
        return next(i for i in list_speakers(s, interview_id) if i.label == label)


def set_speaker_role(ws, interview_id: str, label: str, role: str, *, who: str = "oralhist speakers") -> SpeakerInfo:
    """Set a speaker's role: interviewer, narrator or other."""
    from oralhist import db
    from oralhist.errors import BadInput
    from oralhist.records import Revision, SpeakerRole

    try:
        value = SpeakerRole(role.strip().lower())
    except ValueError:
        raise BadInput(role, "unknown role; choose interviewer, narrator or other") from None
    with db.session(ws) as s:
        sp = _speaker(s, interview_id, label)
        before = _snapshot(sp)
        sp.role = value
        s.add(sp)
        s.add(Revision(interview_id=interview_id, kind="speaker", who=who, before=before, after=_snapshot(sp),
                       note=f"{label} role set"))
        s.commit()
        return next(i for i in list_speakers(s, interview_id) if i.label == label)


def voice_label(label: str) -> str:
    """The machine's speaker label as people read it (issue 21): ``SPEAKER_1`` -> « Voix 1 »;
    another label is kept as it is."""
    import re

    m = re.fullmatch(r"SPEAKER_0*(\d+)", str(label or ""))
    return f"Voix {m.group(1)}" if m else str(label or "")
