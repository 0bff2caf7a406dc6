"""worker, jobs (list, retry): background jobs, on one computer or across machines."""

from __future__ import annotations

from typing import Optional

import typer

from oralhist.cli.app import app
from oralhist.cli.common import console, err_console, handle_errors, print_json, workspace

jobs_app = typer.Typer(no_args_is_help=False, invoke_without_command=True)
app.add_typer(jobs_app, name="jobs")


@jobs_app.callback(invoke_without_command=True)
@handle_errors
def jobs_list(
    ctx: typer.Context,
    status: Optional[list[str]] = typer.Option(None, "--status", help="Only these states: queued, running, done, failed, cancelled."),
    interview: Optional[list[str]] = typer.Option(None, "--interview", metavar="ID", help="Only these interviews."),
    limit: int = typer.Option(200, "--limit", min=1, help="At most this many (newest first)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array for scripts."),
) -> None:
    """Background jobs (one stage of one interview): list them (newest first), retry a failed one.

    Shows stage, interview, state, progress, attempts, worker and error.

    Example: oralhist jobs --status failed
    """
    if ctx.invoked_subcommand is not None:
        return
    from oralhist import jobs

    rows = jobs.list_jobs(workspace(ctx), interview, statuses=status, limit=limit)
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    t = Table("id", "stage", "interview", "state", "progress", "attempts", "worker", "error")
    for r in rows:
        t.add_row(str(r["id"]), r["stage"], r["interview_id"] or "(archive)", r["status"], f"{r['progress']:.0%}",
                  str(r["attempts"]), r["worker"] or "", r["error"] or "")
    console.print(t)
    if not rows:
        console.print("no jobs")


@jobs_app.command("retry")
@handle_errors
def jobs_retry(
    ctx: typer.Context,
    job_id: int = typer.Argument(..., metavar="ID", help="A failed or cancelled job, or one left running that no worker runs (see `oralhist jobs`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the job as JSON."),
) -> None:
    """Queue a failed or cancelled job again (and the later stages it had cancelled).

    A job shown running that no worker runs (its worker lost its link, or died) is taken
    too; one that a worker really runs is refused.

    Example: oralhist jobs retry 42
    """
    from oralhist import jobs

    ws = workspace(ctx)
    was = jobs.get(ws, job_id).status
    job = jobs.retry(ws, job_id)
    if as_json:
        print_json(jobs.job_dict(job))
    elif was == "running":
        console.print(f"job {job.id}: {job.stage} {job.interview_id or '(archive)'} was running, but no worker "
                      "runs it (the engine says so): queued again")
    else:
        console.print(f"job {job.id}: {job.stage} {job.interview_id or '(archive)'} queued again")


@app.command()
@handle_errors
def worker(
    ctx: typer.Context,
    concurrency: int = typer.Option(1, "--concurrency", "-c", min=1, help="Jobs run at once by this process (transcription: one per CPU core is best run as one process each)."),
    queue: Optional[list[str]] = typer.Option(None, "--queue", "-q", help="Only jobs of this queue (repeat for several; default: every queue)."),
    stalled_after: float = typer.Option(30.0, "--stalled-after", min=1.0, help="Seconds without a heartbeat after which another worker's jobs are run again."),
    once: bool = typer.Option(False, "--once", help="Stop when no job is left instead of waiting for more."),
) -> None:
    """Run background jobs until stopped (Ctrl-C or SIGTERM lets running jobs finish).

    On PostgreSQL any number of workers, on any machine that reaches the database and the
    media folder, share the queue (procrastinate). On SQLite it runs this computer's queue.

    Example: oralhist worker --concurrency 1 --queue default
    """
    from oralhist import jobs

    ws = workspace(ctx)
    if jobs.is_network(ws):
        from oralhist.jobs.engine import run_worker

        err_console.print(f"worker: taking jobs from {', '.join(queue) if queue else 'every queue'} (Ctrl-C to stop)")
        run_worker(ws, concurrency=concurrency, queues=queue, stalled_s=stalled_after, once=once)
        return
    if queue:
        err_console.print("worker: on SQLite every queue is run here (--queue is for PostgreSQL workers)")
    from oralhist.jobs.embedded import EmbeddedRunner, recover_stalled, run_pending

    if once:
        recover_stalled(ws)
        n = run_pending(ws, timeout=10 ** 9)
        console.print(f"worker: {n} job(s) run")
        return
    runner = EmbeddedRunner(ws, concurrency=concurrency).start()
    err_console.print("worker: running this archive's jobs (Ctrl-C to stop)")
    try:
        import time

        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        err_console.print("worker: stopping after the running jobs")
        runner.stop()
