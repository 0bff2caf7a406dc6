"""serve (the workbench) and user (its accounts)."""

from __future__ import annotations

import os
from typing import Optional

import typer

from oralhist.cli.app import app
from oralhist.cli.common import console, handle_errors, print_json, workspace

user_app = typer.Typer(no_args_is_help=True,
                       help="Workbench accounts: volunteer, editor, curator or admin, tied to a museum or not.\n\n"
                            "Example: oralhist user add camille --role volunteer --museum \"La Manufacture\"")
app.add_typer(user_app, name="user")


@app.command()
@handle_errors
def serve(
    ctx: typer.Context,
    host: Optional[str] = typer.Option(None, "--host", help="Address to bind (default [server] host, else 127.0.0.1)."),
    port: Optional[int] = typer.Option(None, "--port", "-p", help="Port (default [server] port, else 8080)."),
) -> None:
    """Run the workbench: import, progress, correction, consent, publishing, with accounts.

    On SQLite the background jobs run inside this process; on PostgreSQL run `oralhist worker`.

    Example: oralhist serve --host 0.0.0.0 --port 8080
    """
    from oralhist.web.server import serve_workbench, server_settings

    ws = workspace(ctx)
    conf = server_settings(ws)
    serve_workbench(ws, host=host or str(conf.get("host", "127.0.0.1")), port=port or int(conf.get("port", 8080)),
                    announce=lambda line: console.print(line, highlight=False, soft_wrap=True))


def add_account(ctx: typer.Context, login: str, role: Optional[str], museum: Optional[str], password_stdin: bool,
                new_role: str = "volunteer") -> None:
    """`user add` and `edit user add`: password from stdin, ORALHIST_PASSWORD, or prompted twice.

    On an existing account only the options given change: with --role or --museum and no password
    given (stdin, ORALHIST_PASSWORD) the password is kept, not prompted for.
    """
    import sys

    from oralhist.editorial.accounts import account_exists, set_account

    ws = workspace(ctx)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif os.environ.get("ORALHIST_PASSWORD"):
        password = os.environ["ORALHIST_PASSWORD"]
    elif (role is not None or museum is not None) and account_exists(ws, login):
        password = None
    else:
        password = typer.prompt("Mot de passe", hide_input=True, confirmation_prompt=True)
    created = set_account(ws, login, password, role=role, museum=museum, new_role=new_role)
    console.print(f"account {login}{f' ({role})' if role else ''} {'created' if created else 'updated'}"
                  f"{'; its sessions are closed' if password is not None and not created else ''}", highlight=False)


def list_account_rows(ctx: typer.Context, as_json: bool) -> None:
    from oralhist.editorial.accounts import list_accounts

    rows = list_accounts(workspace(ctx))
    if as_json:
        print_json(rows)
        return
    for r in rows:
        console.print(f"{r['name']}  {r['role']}  {r['museum'] or 'all museums'}{'  (disabled)' if r['disabled'] else ''}",
                      highlight=False)


@user_app.command("add")
@handle_errors
def user_add(
    ctx: typer.Context,
    login: str = typer.Argument(..., help="Login name."),
    role: Optional[str] = typer.Option(None, "--role", help="volunteer, editor, curator or admin (new accounts: volunteer; "
                                       "an existing account keeps its role)."),
    museum: Optional[str] = typer.Option(None, "--museum", help="Tie the account to this museum (default: all)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input (scripts)."),
) -> None:
    """Create an account (or change its password, role, museum). Password prompted, or ORALHIST_PASSWORD.

    Example: ORALHIST_PASSWORD=... oralhist user add admin --role admin
    """
    add_account(ctx, login, role, museum, password_stdin)


@user_app.command("list")
@handle_errors
def user_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List accounts: login, role, museum (never passwords).

    Example: oralhist user list --json
    """
    list_account_rows(ctx, as_json)


@user_app.command("remove")
@handle_errors
def user_remove(ctx: typer.Context, login: str = typer.Argument(...)) -> None:
    """Remove an account and close its sessions.

    Example: oralhist user remove camille
    """
    from oralhist.editorial.accounts import remove_account

    remove_account(workspace(ctx), login)
    console.print(f"account {login} removed", highlight=False)


@user_app.command("reset")
@handle_errors
def user_reset(ctx: typer.Context, login: str = typer.Argument(...)) -> None:
    """Give an account a temporary password (printed once); its sessions close, and the person
    chooses a new password at the next login.

    Example: oralhist user reset camille
    """
    from oralhist.editorial.accounts import reset_password

    temp = reset_password(workspace(ctx), login)
    console.print(f"temporary password of {login}: {temp}  (to be changed at the next login)", highlight=False)


@user_app.command("disable")
@handle_errors
def user_disable(ctx: typer.Context, login: str = typer.Argument(...),
                 enable: bool = typer.Option(False, "--enable", help="Enable the account again.")) -> None:
    """Disable an account (its sessions close at once; it cannot log in), or enable it again.

    Example: oralhist user disable camille
    """
    from oralhist.editorial.accounts import update_account

    update_account(workspace(ctx), login, disabled=not enable)
    console.print(f"account {login} {'enabled' if enable else 'disabled'}", highlight=False)
