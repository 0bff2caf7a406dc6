"""WebVTT subtitles, with ``<v Speaker>`` voice tags once speakers are known.

The file is checked by reading it back with webvtt-py (same number of cues, same times and
text, times in order) before it replaces the previous one.
"""

from __future__ import annotations

from pathlib import Path

from oralhist.errors import StageError
from oralhist.outputs.exports import atomic_write, ms_to_timestamp
from oralhist.outputs.exports._cues import cues


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _voice(name: str) -> str:
    return " ".join(_escape(name).split())


def render(view) -> tuple[str, list]:
    lines = ["WEBVTT", ""]
    if view.title:
        lines += ["NOTE", _escape(" ".join(f"{view.title} ({view.id})".split()).replace("-->", "->")), ""]
    out = list(cues(view))
    for i, c in enumerate(out, 1):
        lines.append(str(i))
        lines.append(f"{ms_to_timestamp(c.start_ms)} --> {ms_to_timestamp(c.end_ms)}")
        body = _escape(c.text).replace("-->", "->")
        lines.append(f"<v {_voice(c.speaker)}>{body}" if c.speaker else body)
        lines.append("")
    return "\n".join(lines) + "\n", out


def validate(text: str, expected: list, where: Path) -> None:
    """Read the WebVTT back with webvtt-py and compare it with what was meant."""
    import webvtt

    try:
        parsed = webvtt.from_string(text)
    except Exception as exc:  # webvtt-py's MalformedFileError / MalformedCaptionError
        raise StageError(where, f"WebVTT did not validate: {exc}") from None
    if len(parsed.captions) != len(expected):
        raise StageError(where, f"WebVTT did not validate: {len(parsed.captions)} cues read back, {len(expected)} written")
    prev = ""
    for cap, cue in zip(parsed.captions, expected):
        # HH:MM:SS.mmm strings compare in time order
        if cap.start < prev or cap.end <= cap.start:
            raise StageError(where, f"WebVTT did not validate: cue at {cap.start} goes backwards or is empty")
        if cap.start != ms_to_timestamp(cue.start_ms) or cap.end != ms_to_timestamp(cue.end_ms):
            raise StageError(where, f"WebVTT did not validate: times of cue {cap.start} changed on reading")
        if cue.speaker and cap.voice != _voice(cue.speaker):
            raise StageError(where, f"WebVTT did not validate: voice of cue {cap.start} read back as {cap.voice!r}")
        prev = cap.start


def write(view, out: Path) -> Path:
    text, expected = render(view)
    validate(text, expected, Path(out))
    with atomic_write(Path(out)) as fh:
        fh.write(text)
    return Path(out)
