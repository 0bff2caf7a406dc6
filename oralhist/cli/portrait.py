"""portrait: the narrator's portrait and its consent permission (issue 26 item 5)."""

from __future__ import annotations

from pathlib import Path

import typer

from oralhist.cli.app import app
from oralhist.cli.common import console, handle_errors, print_json, workspace


@app.command("portrait")
@handle_errors
def portrait(
    ctx: typer.Context,
    interview: str = typer.Argument(..., help="The interview's id."),
    image: Path = typer.Argument(None, help="The portrait (JPEG, PNG, WebP…); omit it to allow a stored one again."),
    remove: bool = typer.Option(False, "--remove", help="Withdraw the permission: no portrait on the site."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Allow the narrator's portrait on the public site (the consent's portrait permission).

    Refused for an anonymised interview. Example: oralhist portrait 1998-marcel-dupont photo.jpg
    """
    from oralhist.editorial.portrait import set_portrait

    out = set_portrait(workspace(ctx), interview, image, allow=not remove)
    if as_json:
        print_json(out)
        return
    console.print(f"{interview}: portrait {'allowed' if out['portrait'] else 'withdrawn'}", highlight=False)
