"""Test data for the edit area: an interview whose transcript is REAL recogniser output
(tests/data/fleurs_fr_asr.json, made by tests/data/make_fleurs_asr.py from four FLEURS
French clips, CC BY 4.0) and, when asked, the same audio as its listening copy."""

from __future__ import annotations

import json
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data"
ASR = json.loads((DATA / "fleurs_fr_asr.json").read_text(encoding="utf-8"))
sys.path.insert(0, str(DATA))
from make_fleurs_asr import join_clips  # noqa: E402


def asr_segments(strip: bool = False):
    """(start, end, text, [(start, end, word, prob)]) for each recognised segment."""
    return [
        (s["start_ms"], s["end_ms"], s["text"],
         [(w[0], w[1], w[2].strip() if strip else w[2], w[3]) for w in s["words"]])
        for s in ASR["segments"]
    ]


def old_segments(strip: bool = False):
    from oralhist.recognition.align import AWord, OldSegment

    return [OldSegment(s, e, t, tuple(AWord(*w) for w in ws)) for s, e, t, ws in asr_segments(strip)]


def make_interview(ws, iid: str = "2022-lecteurs-fleurs", *, title: str = "Lecteurs FLEURS",
                   narrator: str = "Lectrice FLEURS", strip: bool = True, audio: bool = False, corpus=None,
                   ffmpeg=None, text_override: dict | None = None) -> str:
    """An interview with speakers, a machine transcript (v1) and, optionally, derived/access.mp3."""
    from oralhist import db
    from oralhist.records import (Consent, Derivative, Interview, Person, Segment, Speaker, SpeakerRole,
                                  Transcript, TranscriptStatus, Word)

    with db.session(ws) as s:
        p = Person(name=narrator)
        s.add(p)
        s.flush()
        s.add(Interview(id=iid, title=title, narrator_id=p.id, status="diarized", duration_ms=ASR["duration_ms"],
                        date="2022", language="fr"))
        s.flush()
        s.add(Consent(interview_id=iid))
        sp1 = Speaker(interview_id=iid, label="SPEAKER_1", person_id=p.id, role=SpeakerRole.narrator)
        sp2 = Speaker(interview_id=iid, label="SPEAKER_2", name="Enquêteur", role=SpeakerRole.interviewer)
        s.add(sp1)
        s.add(sp2)
        tr = Transcript(interview_id=iid, version=1, status=TranscriptStatus.machine, source="machine",
                        model="base", language="fr", duration_ms=ASR["duration_ms"])
        s.add(tr)
        s.flush()
        idx = 0
        for i, (st, en, text, words) in enumerate(asr_segments(strip)):
            text = (text_override or {}).get(i, text)
            seg = Segment(transcript_id=tr.id, idx=i, start_ms=st, end_ms=en, text=text,
                          speaker_id=(sp2.id if i == 5 else sp1.id))
            s.add(seg)
            s.flush()
            for ws_, we, wt, wp in words:
                s.add(Word(transcript_id=tr.id, segment_id=seg.id, idx=idx, start_ms=ws_, end_ms=we, text=wt,
                           probability=wp))
                idx += 1
        if audio:
            d = ws.derived_dir(iid)
            d.mkdir(parents=True, exist_ok=True)
            out = join_clips(Path(corpus), d / "access.mp3", ffmpeg, rate=22050, extra=["-c:a", "libmp3lame", "-b:a", "48k"])
            import hashlib

            s.add(Derivative(interview_id=iid, kind="access", path=ws.rel(out),
                             sha256=hashlib.sha256(out.read_bytes()).hexdigest(), duration_ms=ASR["duration_ms"]))
        s.commit()
    return iid
