"""SubRip subtitles (``HH:MM:SS,mmm``), speaker name in front of the text when known."""

from __future__ import annotations

from pathlib import Path

from oralhist.outputs.exports import atomic_write, ms_to_timestamp
from oralhist.outputs.exports._cues import cues


def render(view) -> str:
    blocks = []
    for i, c in enumerate(cues(view), 1):
        text = f"{c.speaker}: {c.text}" if c.speaker else c.text
        blocks.append(f"{i}\n{ms_to_timestamp(c.start_ms, ',')} --> {ms_to_timestamp(c.end_ms, ',')}\n{text}\n")
    return "\n".join(blocks)


def write(view, out: Path) -> Path:
    with atomic_write(Path(out)) as fh:
        fh.write(render(view))
    return Path(out)
