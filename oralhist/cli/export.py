"""export ID --format ..."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from oralhist.cli.app import app
from oralhist.cli.common import console, handle_errors, workspace


@app.command()
@handle_errors
def export(
    ctx: typer.Context,
    interview_id: str = typer.Argument(..., metavar="ID"),
    fmt: str = typer.Option("vtt", "--format", "-f", help="vtt, srt, txt, json, chapters, ohms, docx, iiif or dc."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="File to write (default transcripts/<id>/<id>.<ext>)."),
    version: Optional[int] = typer.Option(None, help="Transcript version (default: the newest)."),
) -> None:
    """Write one interview's transcript or index in a format other tools read.

    These are archive exports for staff: they are not consent-filtered (`publish` is).

    Example: oralhist export 1998-marcel-dupont --format srt
    """
    from oralhist import db
    from oralhist.outputs.exports import default_path, exporter
    from oralhist.editorial.view import load_interview

    ws = workspace(ctx)
    write = exporter(fmt)
    with db.session(ws) as s:
        view = load_interview(s, interview_id, version=version)
    kw: dict = {}
    if fmt == "iiif":
        kw = {"base_url": ws.settings.base_url}
    elif fmt == "docx":  # issue 21: the file's author is the archive
        kw = {"archive_title": ws.settings.title}
    elif fmt in ("dc", "ohms"):  # the interview's rights: its consent record's, else the archive's
        from oralhist.editorial.rights import dc_rights, effective, interview_rights, site_rights

        rights, license = effective(*site_rights(ws), interview_rights(ws, interview_id))
        kw = {"rights": dc_rights(rights, license)} if fmt == "dc" else {"rights": rights, "usage": license,
                                                                         "repository": ws.settings.title}
    path = write(view, out or default_path(ws, interview_id, fmt), **kw)
    console.print(f"wrote {path}", highlight=False)


@app.command("export-bag")
@handle_errors
def export_bag(
    ctx: typer.Context,
    interview_ids: list[str] = typer.Argument(..., metavar="ID..."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder that receives one bag per interview."),
    include_consent: bool = typer.Option(False, "--include-consent", help="Also put the signed consent form in the bag."),
) -> None:
    """Write a BagIt bag (RFC 8493) per interview for a departmental archive or Archivematica.

    Originals, every transcript version, index and links, DC and OHMS, checksums. Not
    consent-filtered (a staff export); the consent form only with --include-consent.

    Example: oralhist export-bag 1998-marcel-dupont --out /media/transfert
    """
    from oralhist.outputs.exports.bag import export_bag as make

    ws = workspace(ctx)
    for iid in interview_ids:
        console.print(f"wrote {make(ws, iid, out, include_consent=include_consent)}", highlight=False)
