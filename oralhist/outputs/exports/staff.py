"""Staff exports: transcripts/<id>/<id>.<ext> in every format, kept in step with the data they come from."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from oralhist.stage import StageReport

TRANSCRIPT_EXPORTS = ("vtt", "srt", "txt", "json")  # written by the transcribe stage as soon as a transcript is stored
STAFF_EXPORTS = ("vtt", "srt", "txt", "json", "chapters", "ohms", "iiif", "dc")
EXPORTS_STAMP = ".exports.json"  # in transcripts/<id>/: fingerprint of the data the exports were made from


def exports_fingerprint(view) -> str:
    """SHA-256 of everything the exports of an interview are made from (transcript version,
    words, speakers, topics, links, metadata, consent): it changes whenever one of them does."""
    import dataclasses
    import hashlib
    import json

    blob = json.dumps(dataclasses.asdict(view), sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _read_stamp(path: Path) -> dict:
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_stamp(path: Path, data: dict) -> None:
    import json
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=".exports.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, sort_keys=True)
    os.replace(tmp, path)


def write_staff_exports(ws, ids: Sequence[str], formats: Sequence[str] = STAFF_EXPORTS, *,
                        only_stale: bool = False) -> StageReport:
    """transcripts/<id>/<id>.<ext> for every format available (archive copies, not consent-filtered).

    Each folder keeps a fingerprint of the data its exports come from (``.exports.json``),
    written after the exports. With ``only_stale``, interviews whose fingerprint still matches
    are skipped and the others rewritten (the exports follow the data: after an edit, a killed
    stage run, a new speaker name...). ``details["rewritten"]`` lists the stale ones rewritten.
    """
    from oralhist import db
    from oralhist.errors import OralhistError
    from oralhist.outputs.exports import default_path, exporter
    from oralhist.editorial.view import load_interview

    rep = StageReport(stage="exports")
    writers = {}
    for fmt in formats:
        writers[fmt] = exporter(fmt)
    rep.details["formats"] = sorted(writers)
    rep.details["rewritten"] = []
    for iid in ids:
        try:
            with db.session(ws) as s:
                view = load_interview(s, iid)
            if view.transcript_version is None:
                rep.skipped.append(iid)
                continue
            fp = exports_fingerprint(view)
            stamp_path = ws.transcript_dir(iid) / EXPORTS_STAMP
            if only_stale:
                old = _read_stamp(stamp_path)
                if (old.get("fingerprint") == fp and set(old.get("formats", [])) >= set(writers)
                        and all(default_path(ws, iid, f).is_file() for f in writers)):
                    rep.skipped.append(iid)
                    continue
                rep.details["rewritten"].append(iid)
            for fmt, write in writers.items():
                kw = {"archive_title": ws.settings.title} if fmt == "docx" else {}  # issue 21: the file's author
                write(view, default_path(ws, iid, fmt), **kw)
            _write_stamp(stamp_path, {"fingerprint": fp, "formats": sorted(writers)})
            rep.done.append(iid)
        except (OralhistError, OSError, ValueError) as exc:
            rep.failed.append((iid, str(exc)))
    return rep


def refresh_staff_exports(ws, ids: Optional[Sequence[str]] = None) -> StageReport:
    """Rewrite the stale staff exports of ``ids`` (default: every interview) that have exports."""
    if ids is None:
        ids = sorted(p.name for p in ws.transcripts.iterdir() if p.is_dir()) if ws.transcripts.is_dir() else []
    ids = [i for i in ids if (ws.transcripts / i).is_dir()]
    return write_staff_exports(ws, ids, only_stale=True)


def write_transcript_exports(ws, iid: str, *, only_missing: bool = False,
                             formats: Sequence[str] = TRANSCRIPT_EXPORTS) -> list[Path]:
    """Write the newest transcript as VTT, SRT, text and JSON into transcripts/<id>/.

    With ``only_missing``, nothing is written unless one of the files is missing (a kill between
    the transcript's commit and its files). The transcribe stage gets this function from the
    pipeline as its ``exports`` callback (recognition does not import the outputs layer).
    """
    from oralhist import db
    from oralhist.editorial.view import load_interview
    from oralhist.outputs.exports import default_path, export

    if only_missing and all(default_path(ws, iid, f).is_file() for f in formats):
        return []
    with db.session(ws) as s:
        view = load_interview(s, iid)
    if view.transcript_version is None:
        return []
    return [export(view, fmt, default_path(ws, iid, fmt)) for fmt in formats]
