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


def staff_options(ws, s, view, fmt: str) -> dict:
    """The keyword arguments that make the staff export ``fmt`` of ``view`` carry the published
    site's addresses (``[site] base_url``, the public id) and the interview's rights, as the
    site's own copies do: one answer for ``oralhist export``, ``run`` and ``link --all``."""
    from sqlmodel import select

    from oralhist.editorial.consent import public_id
    from oralhist.editorial.rights import dc_rights, effective, site_rights
    from oralhist.outputs.exports.addresses import interview_addresses, site_raw
    from oralhist.records import Consent

    if fmt == "docx":  # the archive is the document's creator (issue 25 item 9)
        return {"archive": ws.settings.title}
    if fmt not in ("iiif", "dc", "ohms"):
        return {}
    consent = s.exec(select(Consent).where(Consent.interview_id == view.id)).first()
    rights, license = effective(*site_rights(ws), consent)
    where = interview_addresses(ws, s, view, public_id(view))
    web = bool(ws.settings.base_url)
    if fmt == "iiif":
        return {"base_url": ws.settings.base_url, "public_id": where.public_id, "audio_path": where.audio_path,
                "rights": rights, "license": license, "archive_title": ws.settings.title,
                "language": ws.settings.site_language or "fr"}
    if fmt == "dc":
        return {"rights": dc_rights(rights, license), "identifier": where.page if web else None,
                "audio_url": where.audio if web else None}
    return {"rights": rights, "usage": license, "repository": ws.settings.title,
            "funding": str(site_raw(ws).get("funding", "") or "").strip(),
            "media_url": where.audio if web and where.audio else "",
            "file_name": Path(where.audio_path).name if where.audio_path else "",
            "repository_url": f"{where.base}/" if web else "", "page_url": where.page if web else "",
            "xml_url": f"{where.media}/ohms.xml" if web else ""}


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
                options = {fmt: staff_options(ws, s, view, fmt) for fmt in writers}
            if view.transcript_version is None:
                rep.skipped.append(iid)
                continue
            fp = exports_fingerprint(view) + "|" + str(sorted((f, sorted(o.items())) for f, o in options.items()))
            stamp_path = ws.transcript_dir(iid) / EXPORTS_STAMP
            if only_stale:
                old = _read_stamp(stamp_path)
                if (old.get("fingerprint") == fp and set(old.get("formats", [])) >= set(writers)
                        and all(default_path(ws, iid, f).is_file() for f in writers)):
                    rep.skipped.append(iid)
                    continue
                rep.details["rewritten"].append(iid)
            for fmt, write in writers.items():
                write(view, default_path(ws, iid, fmt), **options[fmt])
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
