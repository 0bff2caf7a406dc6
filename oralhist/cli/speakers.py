"""diarize, speakers, index: who speaks, and about what."""

from __future__ import annotations

from typing import List, Optional

import typer

from oralhist.cli.app import app
from oralhist.cli.common import console, handle_errors, print_json, report, workspace


def _refresh_exports(ws, ids) -> None:
    """Rewrite the transcript exports so that new speaker names and topics appear in them."""
    try:
        from oralhist.outputs.exports.staff import write_transcript_exports as write_exports
    except ImportError:
        return
    for i in ids:
        try:
            write_exports(ws, i)
        except Exception:  # noqa: BLE001 - exports are refreshed again by publish
            pass


@app.command()
@handle_errors
def diarize(
    ctx: typer.Context,
    ids: Optional[List[str]] = typer.Argument(None, metavar="ID", help="Interviews to diarize."),
    all_: bool = typer.Option(False, "--all", help="Every interview of the archive."),
    speakers: Optional[int] = typer.Option(None, "--speakers", min=1, help="Number of speakers, when known (default: found automatically)."),
    force: bool = typer.Option(False, "--force", help="Diarize again interviews already done."),
    queue: Optional[str] = typer.Option(None, "--queue", metavar="Q", help="Queue the work for `oralhist worker` (any machine) instead of running it here."),
    as_json: bool = typer.Option(False, "--json", help="Print the stage report as JSON."),
) -> None:
    """Find who speaks when, put a speaker on every word and split segments at speaker changes.

    Two-microphone stereo recordings are split by channel; others by voice (offline, CPU).

    Example: oralhist diarize 1998-marcel-dupont --speakers 2
    """
    from oralhist import db
    from oralhist.jobs.pipeline import run_stage
    from oralhist.progress import progress_bar
    from oralhist.stage import resolve_ids

    ws = workspace(ctx)
    with db.session(ws) as s:
        todo = resolve_ids(s, ids, all_)
    if queue:
        from oralhist.cli.common import enqueue_report

        return enqueue_report(ws, todo, "diarize", queue, force=force, as_json=as_json)
    with progress_bar(enabled=not as_json) as p:
        rep = run_stage(ws, "diarize", todo, force=force, speakers=speakers, progress=p)
    _refresh_exports(ws, rep.done)
    if not as_json:
        for i in rep.done:
            d = rep.details.get(i, {})
            spk = ", ".join(f"{k} {v['talk_ms'] / 1000:.0f} s" for k, v in d.get("speakers", {}).items())
            console.print(f"diarize: {i}: {len(d.get('speakers', {}))} speaker(s) by {d.get('method')} ({spk})", highlight=False)
        rep.done = []
    report(rep, as_json)


@app.command("speakers")
@handle_errors
def speakers_cmd(
    ctx: typer.Context,
    interview_id: str = typer.Argument(..., metavar="ID"),
    action: Optional[str] = typer.Argument(None, metavar="ACTION", help="rename (LABEL \"Name\"), role (LABEL interviewer|narrator|other) or merge (LABEL INTO_LABEL); none: list."),
    label: Optional[str] = typer.Argument(None, metavar="LABEL", help="A speaker label such as SPEAKER_1."),
    value: Optional[str] = typer.Argument(None, metavar="VALUE", help="The new name, the role, or the label to merge into."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List an interview's speakers (talk time, a sample quote), rename one, set its role, or merge two.

    merge SPEAKER_2 SPEAKER_1 gives every turn of SPEAKER_2 to SPEAKER_1 as a new transcript version
    (older versions keep both labels).

    Example: oralhist speakers 1998-marcel-dupont rename SPEAKER_1 "Marcel Dupont"
    """
    from oralhist import db
    from oralhist.editorial.speakers import list_speakers, rename_speaker, set_speaker_role
    from oralhist.errors import BadInput

    ws = workspace(ctx)
    if action is None:
        with db.session(ws) as s:
            infos = list_speakers(s, interview_id)
        if as_json:
            print_json([i.to_dict() for i in infos])
            return
        if not infos:
            console.print(f"{interview_id}: no speakers yet (run `oralhist diarize {interview_id}`)", highlight=False)
            return
        from rich.table import Table

        t = Table("label", "name", "role", "talk", "sample")
        for i in infos:
            m, sec = divmod(i.talk_ms // 1000, 60)
            t.add_row(i.label, i.name or "", i.role or "", f"{m}:{sec:02d}", i.quote)
        console.print(t)
        return
    if action not in ("rename", "role", "merge"):
        raise BadInput(action, "unknown action; use `rename LABEL NAME`, `role LABEL ROLE` or `merge LABEL INTO_LABEL`")
    if not label or not value:
        raise BadInput(action, f"usage: oralhist speakers {interview_id} {action} LABEL {dict(rename='NAME', role='ROLE').get(action, 'INTO_LABEL')}")
    if action == "merge":
        from oralhist.editorial.review import merge_speakers

        res = merge_speakers(ws, interview_id, label, value, who="oralhist speakers")
        _refresh_exports(ws, [interview_id])
        if as_json:
            print_json(res)
        else:
            console.print(f"{interview_id}: {label} merged into {value} ({res['segments']} segments) as version "
                          f"{res['version']}", highlight=False)
        return
    if action == "rename":
        info = rename_speaker(ws, interview_id, label, value)
    else:
        info = set_speaker_role(ws, interview_id, label, value)
    _refresh_exports(ws, [interview_id])
    if as_json:
        print_json(info.to_dict())
    else:
        console.print(f"{interview_id}: {info.label} = {info.name or '-'} ({info.role or 'role unset'})", highlight=False)


@app.command()
@handle_errors
def index(
    ctx: typer.Context,
    ids: Optional[List[str]] = typer.Argument(None, metavar="ID", help="Interviews to index."),
    all_: bool = typer.Option(False, "--all", help="Every interview of the archive."),
    force: bool = typer.Option(False, "--force", help="Index again (a new version; an editor's index is kept)."),
    queue: Optional[str] = typer.Option(None, "--queue", metavar="Q", help="Queue the work for `oralhist worker` (any machine) instead of running it here."),
    as_json: bool = typer.Option(False, "--json", help="Print the stage report as JSON."),
) -> None:
    """Propose topic segments (title, synopsis, keywords), about ten per hour, like an OHMS index.

    Example: oralhist index --all
    """
    from oralhist import db
    from oralhist.progress import progress_bar
    from oralhist.stage import resolve_ids
    from oralhist.jobs.pipeline import run_stage

    ws = workspace(ctx)
    with db.session(ws) as s:
        todo = resolve_ids(s, ids, all_)
    if queue:
        from oralhist.cli.common import enqueue_report

        return enqueue_report(ws, todo, "index", queue, force=force, as_json=as_json)
    with progress_bar(enabled=not as_json) as p:
        rep = run_stage(ws, "index", todo, force=force, progress=p)
    _refresh_exports(ws, rep.done)
    if not as_json:
        for i in rep.done:
            d = rep.details.get(i, {})
            console.print(f"index: {i}: {d.get('segments', 0)} topic segment(s), version {d.get('version')}", highlight=False)
        rep.done = []
    report(rep, as_json)
