"""The Typer application and the global ``--workspace`` option."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(
    name="oralhist",
    help="Oral-history archive: ingest, transcribe, index, link, correct and publish testimonies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    workspace: Optional[Path] = typer.Option(
        None, "--workspace", "-w", help="Archive folder (default: found from the current folder upwards).",
        envvar="ORALHIST_WORKSPACE",
    ),
) -> None:
    ctx.obj = {"workspace": workspace}
