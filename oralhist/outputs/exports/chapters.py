"""Chapters WebVTT from the topic index: one cue per topic segment, its title as the text.

Players (video.js, Plyr, Able Player, the HTML ``<track kind="chapters">``) show these cues
as a chapter menu. Checked by reading it back with webvtt-py before it replaces the file.
"""

from __future__ import annotations

from pathlib import Path

from oralhist.errors import StageError
from oralhist.outputs.exports import atomic_write, ms_to_timestamp


def _clean(text: str) -> str:
    text = " ".join((text or "").split())
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("-->", "->")


def render(view) -> str:
    lines = ["WEBVTT", ""]  # no "Kind:" header: strict WebVTT parsers reject it
    topics = sorted(view.topics, key=lambda t: t.start_ms)
    for i, t in enumerate(topics, 1):
        end = t.end_ms
        if i < len(topics):
            end = min(end, topics[i].start_ms) if end > t.start_ms else topics[i].start_ms
        end = max(end, t.start_ms + 1)
        lines += [f"chapter-{i}", f"{ms_to_timestamp(t.start_ms)} --> {ms_to_timestamp(end)}",
                  _clean(t.title) or f"{i}", ""]
    return "\n".join(lines) + "\n"


def write(view, out: Path) -> Path:
    text = render(view)
    try:
        import webvtt

        parsed = webvtt.from_string(text)
        if len(parsed.captions) != len(view.topics):
            raise StageError(out, f"chapters WebVTT did not validate: {len(parsed.captions)} cues read back")
    except ImportError:  # webvtt-py is a base dependency; keep the export usable without it
        pass
    except StageError:
        raise
    except Exception as exc:  # webvtt-py's malformed-file errors
        raise StageError(out, f"chapters WebVTT did not validate: {exc}") from None
    with atomic_write(Path(out)) as fh:
        fh.write(text)
    return Path(out)
