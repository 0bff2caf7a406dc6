"""Helpers shared by the command modules: finding the workspace, printing, exit codes."""

from __future__ import annotations

import functools
import json
import sys
from typing import Any, Callable

import typer
from rich.console import Console

from oralhist.errors import OralhistError

# markup=False: archive data ("[1998] face A.wav", a title with brackets) is printed as it is;
# styles are given explicitly with rich.text.Text.
console = Console(markup=False, highlight=False)
err_console = Console(stderr=True, markup=False, highlight=False)


def error_line(message: str):
    """``error: <message>`` with the label in red, the message never read as markup."""
    from rich.text import Text

    return Text.assemble(("error:", "red"), " ", message)


def workspace(ctx: typer.Context):
    """The archive this command works on (``--workspace`` or found upwards)."""
    from oralhist.workspace import find_workspace, open_workspace

    root = (ctx.find_root().obj or {}).get("workspace")
    return open_workspace(root) if root else find_workspace()


def fail(message: str, code: int = 2) -> None:
    err_console.print(error_line(message), soft_wrap=True)
    raise typer.Exit(code)


def handle_errors(fn: Callable) -> Callable:
    """Turn library exceptions into one line on stderr and the contract's exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except OralhistError as exc:
            fail(exc.message, exc.exit_code)
        except KeyboardInterrupt:
            err_console.print("interrupted: the archive is as it was before the unfinished step; run the command again to finish")
            raise typer.Exit(130)

    return wrapper


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def report(rep, as_json: bool) -> None:
    """Print a StageReport (human or JSON) and exit with its code."""
    if as_json:
        print_json(rep.to_dict())
    else:
        for i in rep.done:
            console.print(f"{rep.stage}: {i} done", highlight=False)
        for i in rep.skipped:
            console.print(f"{rep.stage}: {i} already done (--force to redo)", highlight=False)
        for i, holder in rep.details.get("busy", {}).items():
            console.print(f"{rep.stage}: {i} skipped: running right now elsewhere ({holder}); that run finishes it", highlight=False)
        for i, m in rep.failed:
            err_console.print(error_line(f"{i}: {m}"), soft_wrap=True)
    if rep.exit_code:
        raise typer.Exit(rep.exit_code)


def enqueue_report(ws, ids, stage: str, queue: str, *, force: bool = False, as_json: bool = False) -> None:
    """`<stage> --queue Q`: queue the stage for each interview instead of running it here."""
    from oralhist import jobs

    out = []
    for iid in ids:
        for job in jobs.enqueue(ws, iid, [stage], queue=queue, force=force):
            out.append(jobs.job_dict(job))
    if as_json:
        print_json(out)
        return
    for r in out:
        console.print(f"{stage}: {r['interview_id']} queued (job {r['id']}, queue {r['queue']})", highlight=False)
