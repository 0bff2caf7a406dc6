"""Export formats. One module per format, each with ``write(view, out: Path) -> Path``.

``view`` is an ``oralhist.editorial.view.InterviewView`` (already consent-filtered when the export is
meant for the public). Exporters write to a temporary file and rename it into place, so a
killed export never leaves a half-written file.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from oralhist.errors import BadInput

# format -> (module, file suffix written under transcripts/<id>/)
FORMATS: dict[str, tuple[str, str]] = {
    "vtt": ("oralhist.outputs.exports.vtt", ".vtt"),
    "srt": ("oralhist.outputs.exports.srt", ".srt"),
    "txt": ("oralhist.outputs.exports.text", ".txt"),
    "json": ("oralhist.outputs.exports.jsonfmt", ".json"),
    "chapters": ("oralhist.outputs.exports.chapters", ".chapters.vtt"),
    "ohms": ("oralhist.outputs.exports.ohms", ".ohms.xml"),
    "docx": ("oralhist.outputs.exports.docx", ".docx"),
    "iiif": ("oralhist.outputs.exports.iiif", ".iiif.json"),
    "dc": ("oralhist.outputs.exports.dublincore", ".dc.xml"),
}


def exporter(fmt: str):
    if fmt not in FORMATS:
        raise BadInput(fmt, f"unknown export format; choose one of {', '.join(FORMATS)}")
    return importlib.import_module(FORMATS[fmt][0]).write  # imported when used: --help stays instant


def default_path(ws, interview_id: str, fmt: str) -> Path:
    return ws.transcript_dir(interview_id) / f"{interview_id}{FORMATS[fmt][1]}"


def export(view, fmt: str, out: Path) -> Path:
    return exporter(fmt)(view, Path(out))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_write(path: Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator:
    """Open a temporary file beside ``path``; rename it over ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=encoding if "b" not in mode else None) as fh:
            yield fh
        # mkstemp makes the file 0600: give the export the mode an ordinary file gets.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def ms_to_timestamp(ms: int, sep: str = ".") -> str:
    """12345 -> '00:00:12.345' (VTT) or, with sep=',', '00:00:12,345' (SRT)."""
    ms = max(0, int(ms))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, msec = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{msec:03d}"
