"""Helpers for the speakers/topics tests: real corpus clips ingested, normalised, transcribed."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def ingest_clip(ws, path: Path, **meta) -> str:
    """Ingest one real file; return the interview id."""
    from oralhist.ingest import IngestMeta, ingest_paths

    rep = ingest_paths(ws, [Path(path)], meta=IngestMeta(**meta))
    assert rep.done, rep.failed
    return rep.done[0]


def normalise(ws, interview_id: str) -> Path:
    """derived/asr.wav by area 1's normalise when present, else decoded here (16 kHz mono s16)."""
    try:
        from oralhist.audio import normalise_interviews
    except ImportError:
        normalise_interviews = None
    if normalise_interviews is not None:
        rep = normalise_interviews(ws, [interview_id])
        assert not rep.failed, rep.failed
        return ws.derived_dir(interview_id) / "asr.wav"
    from sqlmodel import select

    from oralhist import db
    from oralhist.diarize import decode_16k
    from oralhist.records import Recording

    with db.session(ws) as s:
        recs = s.exec(select(Recording).where(Recording.interview_id == interview_id).order_by(Recording.part)).all()
    audio = np.concatenate([decode_16k(ws.abs(r.path))[0] for r in recs])
    out = ws.derived_dir(interview_id) / "asr.wav"
    out.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return out


def transcribe(ws, interview_id: str, language: str = "en") -> None:
    """Real faster-whisper output (the default model) stored by area 2's stage."""
    from oralhist.transcribe import transcribe_interviews

    rep = transcribe_interviews(ws, [interview_id], language=language, exports=False)
    assert rep.done == [interview_id], rep.failed


def transcript_from_texts(ws, interview_id: str, pieces: list[tuple[int, int, str, str | None]]) -> None:
    """A machine transcript written directly: (start_ms, end_ms, text, speaker label or None)
    per segment, words timed evenly inside each segment."""
    from oralhist import db
    from oralhist.records import Segment, Speaker, Transcript, Word

    with db.session(ws) as s:
        tr = Transcript(interview_id=interview_id, version=1, model="reference", language="fr",
                        duration_ms=max(e for _, e, _, _ in pieces))
        s.add(tr)
        s.flush()
        spk: dict[str, int] = {}
        n = 0
        for i, (st, en, text, label) in enumerate(pieces):
            if label and label not in spk:
                row = Speaker(interview_id=interview_id, label=label)
                s.add(row)
                s.flush()
                spk[label] = row.id
            sg = Segment(transcript_id=tr.id, idx=i, start_ms=st, end_ms=en, text=text, speaker_id=spk.get(label))
            s.add(sg)
            s.flush()
            toks = text.split()
            step = (en - st) / max(1, len(toks))
            for k, t in enumerate(toks):
                s.add(Word(transcript_id=tr.id, segment_id=sg.id, idx=n, start_ms=int(st + k * step),
                           end_ms=int(st + (k + 1) * step), text=t))
                n += 1
        s.commit()
