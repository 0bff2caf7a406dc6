"""init, ingest, list, show, normalise, verify."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from oralhist.cli.app import app
from oralhist.cli.common import console, handle_errors, print_json, workspace


@app.command()
@handle_errors
def init(
    directory: Path = typer.Argument(Path("."), help="Folder of the new archive (created if needed)."),
    title: Optional[str] = typer.Option(None, help="Name of the archive, shown on the public site."),
) -> None:
    """Make an archive folder: settings file, database, folders.

    Example: oralhist init ~/archives/musee-du-textile --title "Mémoire du textile"
    """
    from oralhist.workspace import init as init_ws

    ws = init_ws(directory, title=title)
    console.print(f"archive ready in {ws.root}", highlight=False)


@app.command("list")
@handle_errors
def list_(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array for scripts."),
) -> None:
    """List the interviews of the archive.

    Example: oralhist list --json
    """
    from oralhist import db
    from oralhist.view import list_interviews

    ws = workspace(ctx)
    with db.session(ws) as s:
        views = list_interviews(s)
    if as_json:
        print_json([v.summary_dict() for v in views])
        return
    from rich.table import Table

    t = Table("id", "title", "narrator", "date", "status", "museum")
    for v in views:
        t.add_row(v.id, v.title, v.narrator or "", v.date or "", v.status, v.museum or "")
    console.print(t)


@app.command()
@handle_errors
def show(
    ctx: typer.Context,
    interview_id: str = typer.Argument(..., metavar="ID"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object for scripts."),
    words: bool = typer.Option(False, "--words", help="With --json: include every word and its timing."),
) -> None:
    """Show one interview: recordings, consent, speakers, transcript, topics, links.

    Example: oralhist show 1998-marcel-dupont --json
    """
    from oralhist import db
    from oralhist.view import load_interview

    ws = workspace(ctx)
    with db.session(ws) as s:
        v = load_interview(s, interview_id)
    if as_json:
        print_json(v.to_dict(words=words))
        return
    console.print(f"[bold]{v.id}[/bold]  {v.title}", highlight=False)
    for k in ("narrator", "interviewer", "date", "place", "language", "museum", "status"):
        val = getattr(v, k)
        if val:
            console.print(f"  {k}: {val}", highlight=False)
    console.print(f"  duration: {v.duration_ms / 1000:.1f} s", highlight=False)
    for r in v.recordings:
        console.print(
            f"  part {r.part}: {r.original_name} ({r.codec}, {r.sample_rate} Hz, {r.channels} ch, "
            f"{r.duration_ms / 1000:.1f} s, sha256 {r.sha256[:12]}…)",
            highlight=False,
        )
    if v.consent:
        console.print(f"  consent: {v.consent.scope}" + (f", embargo until {v.consent.embargo_until}" if v.consent.embargo_until else ""), highlight=False)
    for sp in v.speakers:
        console.print(f"  speaker {sp.label}: {sp.name or '-'} ({sp.role or 'role unset'})", highlight=False)
    if v.transcript_version:
        console.print(f"  transcript v{v.transcript_version} ({v.transcript_status}), {len(v.segments)} segments", highlight=False)
        for sg in v.segments[:5]:
            console.print(f"    [{sg.start_ms / 1000:7.1f}s] {sg.speaker_name or ''} {sg.text}", highlight=False)
    for t in v.topics:
        console.print(f"  topic [{t.start_ms / 1000:.0f}s] {t.title}", highlight=False)
    for ln in v.links:
        console.print(f"  link [{ln.start_ms / 1000:.0f}s] {ln.kind}:{ln.term_label} ({ln.status})", highlight=False)
