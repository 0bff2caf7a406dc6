"""JSON with every segment and every word and its timing (integer milliseconds)."""

from __future__ import annotations

import json
from pathlib import Path

from oralhist.outputs.exports import atomic_write

FORMAT_VERSION = 1


def to_dict(view) -> dict:
    return {
        "format": "oralhist-transcript",
        "format_version": FORMAT_VERSION,
        "id": view.id,
        "title": view.title,
        "narrator": view.narrator,
        "interviewer": view.interviewer,
        "date": view.date,
        "place": view.place,
        "language": view.language,
        "duration_ms": view.duration_ms,
        "transcript": {
            "version": view.transcript_version,
            "status": view.transcript_status,
            "model": view.model,
        },
        "speakers": [{"label": s.label, "name": s.name, "role": s.role} for s in view.speakers],
        "segments": [
            {
                "start_ms": sg.start_ms,
                "end_ms": sg.end_ms,
                "speaker": sg.speaker,
                "speaker_name": sg.speaker_name,
                "text": sg.text,
                "flag": sg.flag,
                "words": [
                    {"start_ms": w.start_ms, "end_ms": w.end_ms, "text": w.text, "probability": w.probability}
                    for w in sg.words
                ],
            }
            for sg in view.segments
        ],
    }


def write(view, out: Path) -> Path:
    with atomic_write(Path(out)) as fh:
        json.dump(to_dict(view), fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    return Path(out)
