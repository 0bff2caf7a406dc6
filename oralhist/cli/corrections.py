"""Commands of the correction memory: corrections memory [--json], memory add, memory delete."""

from __future__ import annotations

from typing import Optional

import typer

from oralhist.cli.app import app
from oralhist.cli.common import console, handle_errors, print_json, workspace

corrections_app = typer.Typer(no_args_is_help=True, help="The correction memory learned from approved corrections.\n\n"
                                                         "Example: oralhist corrections memory --json")
memory_app = typer.Typer(invoke_without_command=True, no_args_is_help=False)
corrections_app.add_typer(memory_app, name="memory")
app.add_typer(corrections_app, name="corrections")


def _museum_id(ws, name: Optional[str]):
    from sqlmodel import select

    from oralhist import db
    from oralhist.errors import BadInput
    from oralhist.records import Museum

    if not name:
        return None
    with db.session(ws) as s:
        m = s.exec(select(Museum).where(Museum.name == name)).first()
    if m is None:
        raise BadInput("--museum", f"no museum named {name!r}")
    return m.id


def _who(who: Optional[str]) -> str:
    import getpass

    return who or getpass.getuser()


@memory_app.callback()
@handle_errors
def memory(
    ctx: typer.Context,
    museum: Optional[str] = typer.Option(None, "--museum", help="Only this museum's pairs (default: every museum)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the learned pairs (wrong → right) with their counts and the interviews they came from.

    Example: oralhist corrections memory --museum "Musée de la filature" --json
    """
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from oralhist import db
    from oralhist.editorial.memory import list_pairs

    ws = workspace(ctx)
    mid = _museum_id(ws, museum)
    with db.session(ws) as s:
        pairs = list_pairs(s, mid, every=museum is None)
    if as_json:
        print_json(pairs)
        return
    t = Table("id", "wrong", "right", "museum", "count", "network", "kept", "from")
    for p in pairs:
        src = ", ".join(p["from"]) + ((", " if p["from"] else "") + f"added by {p['taught_by']}" if p["taught_by"] else "")
        t.add_row(str(p["id"]), p["wrong"], p["right"], p["museum"] or "", str(p["count"]), str(p["network_count"]),
                  str(p["kept"]), src)
    console.print(t)


@memory_app.command("add")
@handle_errors
def add(
    ctx: typer.Context,
    wrong: str = typer.Argument(..., help="The wrong form (1-3 words)."),
    right: str = typer.Argument(..., help="What it should read."),
    museum: Optional[str] = typer.Option(None, "--museum", help="The museum the pair belongs to (default: none)."),
    who: Optional[str] = typer.Option(None, "--who", help="Name recorded with the pair (default: your login)."),
) -> None:
    """Teach a pair by hand; a pair that would loop (A→B when B→A is known) is refused.

    Example: oralhist corrections memory add "Roubé" "Roubaix"
    """
    from oralhist.editorial.memory import add_pair

    ws = workspace(ctx)
    p = add_pair(ws, wrong, right, museum_id=_museum_id(ws, museum), who=_who(who))
    console.print(f"pair {p['id']}: {p['wrong']} → {p['right']}")


@memory_app.command("delete")
@handle_errors
def delete(
    ctx: typer.Context,
    pair_id: int = typer.Argument(..., metavar="PAIR_ID"),
    who: Optional[str] = typer.Option(None, "--who", help="Name recorded with the deletion (default: your login)."),
) -> None:
    """Delete a bad pair: it is no longer suggested nor learned again.

    Example: oralhist corrections memory delete 12
    """
    from oralhist.editorial.memory import delete_pair

    delete_pair(workspace(ctx), pair_id, who=_who(who))
    console.print(f"pair {pair_id} deleted")
