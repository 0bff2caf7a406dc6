"""Plain text: a short header, then one line per segment ``[hh:mm:ss] Speaker: text``.

Header lines start with ``# `` so a tool reading the file back can skip them. A blank line
separates turns when the speaker changes.
"""

from __future__ import annotations

from pathlib import Path

from oralhist.outputs.exports import atomic_write


def hms(ms: int) -> str:
    s = max(0, int(ms)) // 1000
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def render(view) -> str:
    lines = [f"# {view.title or view.id}"]
    for label, val in (("id", view.id), ("narrator", view.narrator), ("interviewer", view.interviewer),
                       ("date", view.date), ("place", view.place), ("language", view.language)):
        if val:
            lines.append(f"# {label}: {val}")
    if view.transcript_version is not None:
        lines.append(f"# transcript: version {view.transcript_version} ({view.transcript_status}), {view.model or ''}".rstrip(", "))
    lines.append("")
    prev = None
    for i, sg in enumerate(view.segments):
        who = sg.speaker_name or sg.speaker
        if i and who != prev:
            lines.append("")
        prev = who
        lines.append(f"[{hms(sg.start_ms)}] {who + ': ' if who else ''}{' '.join(sg.text.split())}")
    return "\n".join(lines) + "\n"


def write(view, out: Path) -> Path:
    with atomic_write(Path(out)) as fh:
        fh.write(render(view))
    return Path(out)
