"""`oralhist replace FIND REPLACEMENT`: replace a word or phrase in one interview, a museum's or all (issue 23)."""

from __future__ import annotations

from typing import Optional

import typer

from oralhist.cli.app import app
from oralhist.cli.common import console, handle_errors, print_json, workspace


@app.command("replace")
@handle_errors
def replace(
    ctx: typer.Context,
    find: str = typer.Argument("", metavar="FIND", help="Word or phrase to find (case and accents ignored, whole words)."),
    replacement: str = typer.Argument("", metavar="REPLACEMENT", help="What to write instead, as typed."),
    interview: Optional[str] = typer.Option(None, "--interview", help="Only this interview."),
    museum: Optional[str] = typer.Option(None, "--museum", help="Only this museum's interviews."),
    everything: bool = typer.Option(False, "--all", help="Every interview of the archive."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List the occurrences; change nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object for scripts."),
    undo: Optional[int] = typer.Option(None, "--undo", metavar="BATCH", help="Undo the replace numbered BATCH (all its versions)."),
    who: Optional[str] = typer.Option(None, "--who", help="Name recorded with the new versions (default: your login)."),
) -> None:
    """Replace a word or phrase everywhere: one new version per interview touched, timings kept.

    Example: oralhist replace "Roubé" "Roubaix" --museum "Musée de la mine" --dry-run
    """
    import getpass

    from oralhist.editorial import replace as rp

    ws = workspace(ctx)
    try:
        name = who or getpass.getuser()
    except (KeyError, OSError):  # no login name (containers)
        name = "editor"
    if undo is not None:
        res = rp.undo_replace(ws, undo, who=name)
        if as_json:
            print_json(res.to_dict())
        else:
            console.print(f"undone replace {undo}: {len(res.items)} interview(s) back to their earlier text", highlight=False)
        return
    scope = dict(interview=interview, museum=museum, everything=everything)
    if dry_run:
        found = rp.preview(ws, find, replacement, **scope)
        if as_json:
            print_json(found.to_dict())
            return
        for o in found.occurrences:
            console.print(f"{o.interview} v{o.version} {o.start_ms // 1000 // 60:02d}:{o.start_ms // 1000 % 60:02d}  "
                          f"{o.before}[{o.match} → {o.replacement}]{o.after}", highlight=False, markup=False)
        console.print(f"{found.total} occurrence(s) in {len({o.interview for o in found.occurrences})} interview(s); "
                      "nothing changed (--dry-run)", highlight=False)
        return
    res = rp.apply_replace(ws, find, replacement, who=name, **scope)
    if as_json:
        print_json(res.to_dict())
        return
    d = res.to_dict()
    console.print(f"replaced {d['replaced']} occurrence(s) in {d['interviews']} interview(s)"
                  + (f"; undo with: oralhist replace --undo {res.batch}" if res.batch else ""), highlight=False)
