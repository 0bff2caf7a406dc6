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
    from oralhist.outputs.exports.staff import staff_options

    with db.session(ws) as s:
        view = load_interview(s, interview_id, version=version)
        kw = staff_options(ws, s, view, fmt)  # the site's addresses and the interview's rights
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


@app.command("export-nakala")
@handle_errors
def export_nakala(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", "-o", help="New (or empty) folder for the deposit."),
    site: Optional[Path] = typer.Option(None, "--site", help="The published site to take the audio from (default site/)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON report for scripts."),
) -> None:
    """Write a folder for a bulk deposit in Nakala (Huma-Num): one folder per public interview.

    Each holds the published audio (redactions silenced), the transcript as text and WebVTT,
    and metadata.csv in Nakala's columns (nakala:title, nakala:creator, nakala:created,
    nakala:type, nakala:license, then dcterms:*); nakala.csv lists them all. Publish first.

    Example: oralhist export-nakala --out /media/transfert/nakala
    """
    from oralhist.cli.common import print_json
    from oralhist.outputs.exports.nakala import export_nakala as make

    ws = workspace(ctx)
    rep = make(ws, out, site=site)
    if as_json:
        print_json(rep)
        return
    console.print(f"wrote {len(rep['written'])} interview(s) in {rep['folder']}", highlight=False)
    if rep["not_published"]:
        console.print(f"not published yet (run oralhist publish): {', '.join(rep['not_published'])}", highlight=False)
    if rep["licence_outside_nakala"]:
        console.print("licence not in Nakala's list (choose one there): "
                      + ", ".join(rep["licence_outside_nakala"]), highlight=False)
