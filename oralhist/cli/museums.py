"""museums import: the museums file of the public site (musees/, carte/; docs/publish.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from oralhist.cli.app import app
from oralhist.cli.common import console, handle_errors, print_json, workspace

museums_app = typer.Typer(help="Museums of the network: addresses, coordinates and logos for the public site.",
                          no_args_is_help=True)
app.add_typer(museums_app, name="museums")


@museums_app.command("import")
@handle_errors
def museums_import(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Museums CSV: name, town, address, website, latitude, longitude, "
                                         "logo (a picture beside the file), description."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Import the museums file; a bad row imports nothing.

    Example: oralhist museums import musees.csv
    """
    from oralhist.outputs.museums import import_museums

    rep = import_museums(workspace(ctx), file)
    if as_json:
        print_json(rep.to_dict())
        return
    console.print(f"{file}: {len(rep.created)} museums created, {len(rep.updated)} updated, {rep.logos} logos",
                  highlight=False)
