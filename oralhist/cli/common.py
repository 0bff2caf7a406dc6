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
    from oralhist.archive.workspace import find_workspace, open_workspace

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
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence: never a raw traceback
            if type(exc).__module__.startswith(("click", "typer")):  # usage errors: the CLI library's own
                raise
            storage = _storage_problem(exc)
            if storage:
                fail(f"{storage}; nothing was lost (the archive is as it was before this command)", 1)
            ctx = next((v for v in [*args, *kwargs.values()] if hasattr(v, "find_root")), None)
            log = _write_traceback(ctx)
            fail(f"internal error ({type(exc).__name__}): a bug in oralhist, not a problem with your files; "
                 f"details written to {log}", 1)

    return wrapper


def _storage_problem(exc: BaseException) -> str | None:
    """A one-line description when ``exc`` is a full disk, a read-only archive or an unusable database."""
    import errno

    from sqlalchemy import exc as sa_exc

    text = str(getattr(exc, "orig", None) or exc).lower()
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "database or disk is full" in text:
        return "the disk is full: free some space and run the command again"
    if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM) \
            or "readonly database" in text or "read-only" in text:
        return "the archive cannot be written (read-only folder or file): check its permissions"
    if "unable to open database file" in text:  # SQLite in WAL mode must create its -shm/-wal files
        return "the archive's database cannot be opened: is the archive folder read-only, or gone?"
    if isinstance(exc, sa_exc.DBAPIError) or isinstance(exc, sa_exc.OperationalError):
        return f"the archive's database cannot be used ({text.splitlines()[0] if text else type(exc).__name__})"
    return None


def _write_traceback(ctx=None) -> str:
    """The current exception's traceback, in the archive's .oralhist/logs/ (else the temp folder)."""
    import datetime
    import os
    import tempfile
    import traceback
    from pathlib import Path

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    root = os.environ.get("ORALHIST_WORKSPACE")
    folders = []
    try:
        from oralhist.archive.workspace import find_workspace, open_workspace

        ws_root = ((ctx.find_root().obj or {}).get("workspace")) if ctx else None
        ws = open_workspace(Path(ws_root)) if ws_root else (open_workspace(Path(root)) if root else find_workspace())
        folders.append(ws.root / ".oralhist" / "logs")
    except Exception:  # noqa: BLE001 - no archive: the temp folder
        pass
    folders.append(Path(tempfile.gettempdir()) / "oralhist-logs")
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"error-{stamp}-{os.getpid()}.log"
            path.write_text(" ".join(sys.argv) + "\n\n" + traceback.format_exc(), encoding="utf-8")
            return str(path)
        except OSError:
            continue
    return "nowhere (the log could not be written)"



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
    for line in (jobs.enqueue_many(ws, list(ids), [stage], queue=queue, force=force) if ids else {}).values():
        out.extend(jobs.job_dict(job) for job in line)
    if as_json:
        print_json(out)
        return
    for r in out:
        console.print(f"{stage}: {r['interview_id']} queued (job {r['id']}, queue {r['queue']})", highlight=False)
