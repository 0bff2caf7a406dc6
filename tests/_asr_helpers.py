"""Helpers for the transcription tests: make an interview whose derived/asr.wav is real audio.

When area 1's ``ingest_paths`` + ``normalise_interviews`` exist they are used (the real
path); otherwise the Interview/Recording rows are inserted and the 16 kHz mono s16 WAV is
decoded from the clip with PyAV, as ``normalise`` would write it.
"""

from __future__ import annotations

import hashlib
import wave
from pathlib import Path

import numpy as np

SR = 16000


def write_wav(path: Path, samples: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes((pcm * 32767).astype("<i2").tobytes())
    return path


def decode(path: Path) -> np.ndarray:
    from oralhist.archive.audio import decode_mono

    return decode_mono(path, rate=SR)


def _area1():
    try:
        from oralhist.archive.audio import normalise_interviews
        from oralhist.archive.ingest import IngestMeta, ingest_paths
    except ImportError:
        return None
    return ingest_paths, IngestMeta, normalise_interviews


def add_interview(ws, iid: str, samples: np.ndarray, *, language: str = "fr", original: Path | None = None,
                  narrator: str | None = None, place: str | None = None) -> str:
    """An interview whose interviews/<id>/derived/asr.wav holds ``samples`` (or ``original``).

    With area 1 present: ``ingest_paths`` then ``normalise_interviews`` (the real path; a
    synthetic signal is first written as a WAV file beside the archive). Without it: the
    Interview/Recording rows and the 16 kHz mono s16 WAV are written directly.
    """
    area1 = _area1()
    if area1 is not None:
        ingest_paths, IngestMeta, normalise_interviews = area1
        if original is None:
            original = write_wav(ws.root.parent / "sources" / f"{iid}.wav", samples)
        rep = ingest_paths(ws, [original], meta=IngestMeta(interview=iid, language=language, narrator=narrator,
                                                           place=place, title=iid))
        assert rep.done == [iid], rep.to_dict()
        rep = normalise_interviews(ws, [iid])
        assert rep.done == [iid], rep.to_dict()
        return iid
    return _add_directly(ws, iid, samples, language=language, original=original, narrator=narrator, place=place)


def _add_directly(ws, iid, samples, *, language, original, narrator, place) -> str:
    from oralhist import db
    from oralhist.records import Interview, Person, Recording

    write_wav(ws.derived_dir(iid) / "asr.wav", samples)
    data = original.read_bytes() if original else np.asarray(samples, dtype=np.float32).tobytes()
    with db.session(ws) as s:
        pid = None
        if narrator:
            p = Person(name=narrator)
            s.add(p)
            s.flush()
            pid = p.id
        s.add(Interview(id=iid, title=iid, language=language, narrator_id=pid, place=place,
                        duration_ms=int(len(samples) * 1000 / SR), status="normalised"))
        s.add(Recording(interview_id=iid, part=1, original_name=(original.name if original else f"{iid}.wav"),
                        path=f"interviews/{iid}/original/{original.name if original else iid + '.wav'}",
                        sha256=hashlib.sha256(data + iid.encode()).hexdigest(), size=len(data),
                        duration_ms=int(len(samples) * 1000 / SR), sample_rate=SR, channels=1, codec="pcm_s16le"))
        s.commit()
    return iid


def add_clip(ws, iid: str, clip: Path, **kw) -> str:
    return add_interview(ws, iid, decode(clip), original=clip, **kw)
