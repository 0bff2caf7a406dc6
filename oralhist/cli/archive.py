"""init, ingest, list, show, normalise, verify."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.text import Text

from oralhist.cli.app import app
from oralhist.cli.common import error_line, console, handle_errors, print_json, workspace


@app.command()
@handle_errors
def init(
    directory: Path = typer.Argument(Path("."), help="Folder of the new archive (created if needed)."),
    title: Optional[str] = typer.Option(None, help="Name of the archive, shown on the public site."),
) -> None:
    """Make an archive folder: settings file, database, folders.

    Example: oralhist init ~/archives/musee-du-textile --title "Mémoire du textile"
    """
    from oralhist.archive.workspace import init as init_ws

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
    from oralhist.editorial.view import list_interviews

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
    from oralhist.outputs.publish.status import publication_note
    from oralhist.editorial.view import load_interview

    ws = workspace(ctx)
    with db.session(ws) as s:
        v = load_interview(s, interview_id)
    note = publication_note(ws, interview_id)  # the archive page's rule: the publisher's record of its last build
    if as_json:
        d = v.to_dict(words=words)
        if words and d.get("transcript"):  # issue 23: each word says whether it is doubtful
            from oralhist.editorial.doubts import view_doubts

            with db.session(ws) as s:
                flags = view_doubts(s, interview_id, v.transcript_version)
            for sg, fl in zip(d["transcript"]["segments"], flags):
                for w, f in zip(sg.get("words", []), fl):
                    w["doubtful"] = f
        print_json({**d, "publication": note})
        return
    console.print(Text.assemble((v.id, "bold"), f"  {v.title}"))
    if note:
        console.print(f"  {note}", highlight=False)
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
        if r.loudness_lufs is not None:
            chans = ""
            if r.channel_lufs and len(r.channel_lufs) > 1:
                chans = " (channels: " + " / ".join("silent" if c is None else f"{c:.1f}" for c in r.channel_lufs) + ")"
            console.print(f"    loudness {r.loudness_lufs:.1f} LUFS{chans}", highlight=False)
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


@app.command()
@handle_errors
def ingest(
    ctx: typer.Context,
    paths: Optional[list[Path]] = typer.Argument(None, metavar="PATH...", help="Audio/video files or folders (a recorder's card)."),
    narrator: Optional[str] = typer.Option(None, help="Who tells the story."),
    interviewer: Optional[str] = typer.Option(None, help="Who asks the questions."),
    date: Optional[str] = typer.Option(None, help="Date of the interview: YYYY, YYYY-MM or YYYY-MM-DD."),
    place: Optional[str] = typer.Option(None, help="Where it was recorded."),
    language: Optional[str] = typer.Option(None, help="Language (ISO 639-1, e.g. fr); default: the archive's."),
    museum: Optional[str] = typer.Option(None, help="Museum the interview belongs to."),
    title: Optional[str] = typer.Option(None, help="Title of the interview."),
    consent: Optional[Path] = typer.Option(None, "--consent", help="The signed consent form (scan or PDF)."),
    scope: Optional[str] = typer.Option(None, "--scope", help="Consent scope: public, on-site, research-only or none (default none)."),
    interview: Optional[str] = typer.Option(None, "--interview", metavar="ID",
                                            help="Make all files the parts of this interview, in order (created or extended)."),
    manifest: Optional[Path] = typer.Option(None, "--manifest", help="CSV manifest: one row per file (see docs/archive.md)."),
    allow_outside: bool = typer.Option(False, "--allow-outside", help="Let a manifest name files and consent forms outside its own folder."),
    no_normalise: bool = typer.Option(False, "--no-normalise", help="Do not make asr.wav and the listening copy now."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON report for scripts."),
) -> None:
    """Copy recordings into the archive (hashed, read-only), then normalise them.

    Each file given separately becomes its own interview, unless --interview ID or a
    manifest groups files as the parts of one interview. Folders are walked; files that
    are not audio are listed as skipped.

    Example: oralhist ingest carte-sd/ --narrator "Marcel Dupont" --date 1998-06-14 --consent accord.pdf --scope public
    """
    from oralhist.archive.ingest import IngestMeta
    from oralhist.jobs.pipeline import ingest_locked
    from oralhist.progress import progress_bar

    ws = workspace(ctx)
    meta = IngestMeta(narrator=narrator, interviewer=interviewer, date=date, place=place, language=language,
                      museum=museum, title=title, consent=consent, consent_scope=scope, interview=interview)
    with progress_bar(enabled=not as_json) as prog:
        rep = ingest_locked(ws, paths or [], meta=meta, manifest=manifest, progress=prog, allow_outside=allow_outside)
    norm = None
    # Interviews already holding the files given are normalised too when a killed run left them
    # un-normalised (the stage skips those already done).
    todo = rep.done + [i for i in rep.skipped if i not in rep.done]
    if not no_normalise and todo:
        from oralhist.jobs.pipeline import run_stage

        with progress_bar(enabled=not as_json, seconds=True) as prog:
            norm = run_stage(ws, "normalise", todo, progress=prog)
    _print_ingest(rep, norm, as_json)


def _print_ingest(rep, norm, as_json: bool) -> None:
    from oralhist.cli.common import err_console

    code = max(rep.exit_code, norm.exit_code if norm else 0)
    if as_json:
        d = rep.to_dict()
        if norm is not None:
            d["normalise"] = norm.to_dict()
        print_json(d)
        if code:
            raise typer.Exit(code)
        return
    for f in rep.details.get("skipped_files", []):
        console.print(f"skipped: {f['file']}: {f['reason']}", highlight=False, soft_wrap=True)
    for dup in rep.details.get("duplicates", []):
        if dup["interview"] != "(same command)":
            console.print(f"{dup['file']}: already in the archive (interview {dup['interview']}); nothing added",
                          highlight=False, soft_wrap=True)
    for i in rep.done:
        console.print(f"ingested: {i}", highlight=False)
    for i, m in rep.failed:
        err_console.print(error_line(f"{i}: {m}"), soft_wrap=True)
    if norm is not None:
        for i in norm.done:
            console.print(f"normalised: {i}", highlight=False)
        for i, m in norm.failed:
            err_console.print(error_line(f"{i}: {m}"), soft_wrap=True)
    if not rep.done and not rep.failed and not rep.skipped:
        console.print("nothing ingested (no audio file found)", highlight=False)
    if code:
        raise typer.Exit(code)


@app.command()
@handle_errors
def normalise(
    ctx: typer.Context,
    ids: Optional[list[str]] = typer.Argument(None, metavar="[ID...]", help="Interviews to normalise."),
    all_: bool = typer.Option(False, "--all", help="Every interview of the archive."),
    force: bool = typer.Option(False, "--force", help="Redo interviews already normalised."),
    queue: Optional[str] = typer.Option(None, "--queue", metavar="Q", help="Queue the work for `oralhist worker` (any machine) instead of running it here."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON report for scripts."),
) -> None:
    """Make the 16 kHz asr.wav and the loudness-normalised listening copy (-16 LUFS).

    Example: oralhist normalise --all --force
    """
    from oralhist import db
    from oralhist.jobs.pipeline import run_stage
    from oralhist.cli.common import report
    from oralhist.progress import progress_bar
    from oralhist.stage import resolve_ids

    ws = workspace(ctx)
    with db.session(ws) as s:
        todo = resolve_ids(s, ids, all_)
    if queue:
        from oralhist.cli.common import enqueue_report

        return enqueue_report(ws, todo, "normalise", queue, force=force, as_json=as_json)
    with progress_bar(enabled=not as_json, seconds=True) as prog:
        rep = run_stage(ws, "normalise", todo, force=force, progress=prog)
    report(rep, as_json)


@app.command()
@handle_errors
def verify(
    ctx: typer.Context,
    repair: bool = typer.Option(False, "--repair", help="Remove temporary files and orphans left by a killed run; "
                                "adopt orphan originals of known interviews. Never touches recorded files."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON report for scripts."),
) -> None:
    """Re-hash every original and consent form; list any missing or changed file (exit 1).

    Example: oralhist verify --repair --json
    """
    from oralhist.cli.common import err_console
    from oralhist.archive.fixity import verify as verify_archive
    from oralhist.progress import progress_bar

    ws = workspace(ctx)
    with progress_bar(enabled=not as_json) as prog:
        rep = verify_archive(ws, progress=prog, repair=repair)
    if as_json:
        print_json(rep.to_dict())
    else:
        for r in rep.repaired:
            console.print(f"{r['action']}: {r['path']} ({r['why']})", highlight=False, soft_wrap=True)
        for p in rep.problems:
            err_console.print(Text.assemble((f"{p.problem}:", "red"), f" {p.path} ({p.kind} of {p.interview_id}) {p.detail}"),
                              soft_wrap=True)
        mb = rep.bytes / 1e6
        state = "all intact" if rep.ok else f"{len(rep.problems)} problem(s)"
        console.print(f"verified {rep.checked} file(s), {mb:.1f} MB: {state}", highlight=False)
    if not rep.ok:
        raise typer.Exit(1)
