"""Commands of the edit area: edit (web editor), edit user add/list, import-corrections, approve."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from oralhist.cli.app import app
from oralhist.cli.common import console, handle_errors, print_json, workspace

edit_app = typer.Typer(
    invoke_without_command=True,
    no_args_is_help=False,
)
user_app = typer.Typer(
    no_args_is_help=True,
    help="Editor accounts, needed when the editor listens beyond this computer.\n\nExample: oralhist edit user add camille",
)
edit_app.add_typer(user_app, name="user")
app.add_typer(edit_app, name="edit")


def _who(who: Optional[str]) -> str:
    if who:
        return who
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no login name (containers)
        return "editor"


@edit_app.callback()
@handle_errors
def edit(
    ctx: typer.Context,
    port: int = typer.Option(0, "--port", "-p", help="Port to listen on (0: a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind. Anything but localhost requires editor accounts."),
    who: Optional[str] = typer.Option(None, "--who", help="Name recorded with your saves (local mode; default: your login)."),
    open_browser: bool = typer.Option(False, "--open", help="Open the editor in the default browser."),
) -> None:
    """Run the workbench for one person on this computer (`oralhist serve` in token mode): no login,
    an address with a one-time access token.

    Example: oralhist edit --port 8765
    """
    if ctx.invoked_subcommand is not None:
        return
    from oralhist.web.server import serve

    serve(workspace(ctx), host=host, port=port, who=_who(who), open_browser=open_browser,
          announce=lambda line: console.print(line, highlight=False, soft_wrap=True))


@user_app.command("add")
@handle_errors
def user_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Login name."),
    role: Optional[str] = typer.Option(None, "--role", help="volunteer, editor or admin (new accounts: editor)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input (scripts)."),
) -> None:
    """Create an editor account, or set a new password for an existing one (= `oralhist user add`).

    Example: oralhist edit user add camille
    """
    from oralhist.cli.serve import add_account

    add_account(ctx, name, role, None, password_stdin, new_role="editor")


@user_app.command("list")
@handle_errors
def user_list(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array for scripts."),
) -> None:
    """List accounts (= `oralhist user list`; never passwords).

    Example: oralhist edit user list --json
    """
    from oralhist.cli.serve import list_account_rows

    list_account_rows(ctx, as_json)


@app.command("import-corrections")
@handle_errors
def import_corrections(
    ctx: typer.Context,
    interview_id: str = typer.Argument(..., metavar="ID"),
    file: Path = typer.Argument(..., help="Corrected transcript: .docx, .txt or .vtt (as exported)."),
    who: Optional[str] = typer.Option(None, "--who", help="Name recorded with the new version (default: your login)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    force: bool = typer.Option(False, "--force", help="Import even if the file was exported from an older version."),
) -> None:
    """Read a corrected export back as a new transcript version, re-aligned to the audio.

    Unchanged words keep their recognised times; changed or added words get times from
    their neighbours; words that could not be placed are listed.

    Example: oralhist import-corrections 1998-marcel-dupont transcripts/1998-marcel-dupont/1998-marcel-dupont.docx
    """
    from oralhist.editorial.corrections import import_corrections as run

    res = run(workspace(ctx), interview_id, file, who=_who(who), force=force)
    if as_json:
        print_json(res.to_dict())
        return
    st = res.stats
    if res.unchanged:
        console.print(f"{interview_id}: no change from version {res.version}; nothing saved", highlight=False)
        return
    console.print(
        f"{interview_id}: version {res.version} saved (from v{res.base_version}): {st.kept} words kept with their times, "
        f"{st.retimed} re-cased, {st.changed} changed, {st.inserted} added, {st.deleted} removed",
        highlight=False,
    )
    for n in res.notes:
        console.print(f"  note: {n}", highlight=False)
    if st.unplaced:
        console.print(f"  could not place (no room between neighbours; given a zero-length time): {' '.join(st.unplaced)}",
                      highlight=False)


@app.command()
@handle_errors
def approve(
    ctx: typer.Context,
    interview_id: str = typer.Argument(..., metavar="ID"),
    version: Optional[int] = typer.Option(None, "--version", help="Version to approve (default: the newest)."),
    who: Optional[str] = typer.Option(None, "--who", help="Name recorded with the approval (default: your login)."),
) -> None:
    """Mark a transcript version approved; publishing uses the newest approved version.

    Example: oralhist approve 1998-marcel-dupont --version 3
    """
    from oralhist.editorial.corrections import approve as run

    ws = workspace(ctx)
    v = run(ws, interview_id, version, who=_who(who))
    console.print(f"{interview_id}: version {v} approved", highlight=False)
    from oralhist import db  # issue 23: warn when not every segment is marked reviewed
    from oralhist.cli.common import err_console
    from oralhist.editorial.assign import progress

    with db.session(ws) as s:
        p = progress(s, [interview_id]).get(interview_id)
    if p and p["percent"] < 100:
        err_console.print(f"warning: only {p['percent']}% reviewed ({p['reviewed']} of {p['segments']} segments marked)")
