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


def escape_help_markup(typer_app) -> None:
    """Keep ``[site]``, ``[server]`` and other brackets in ``--help`` as written: Typer reads
    help texts as Rich markup, where ``[site]`` is a style tag and disappears (issue 25).
    Escapes every command's and option's help once, after all commands are registered."""
    import inspect

    from rich.markup import escape

    if getattr(typer_app, "_help_escaped", False):
        return
    typer_app._help_escaped = True

    def esc(text):
        return escape(text) if isinstance(text, str) else text

    for info in typer_app.registered_commands:
        cb = info.callback
        info.help = esc(info.help if info.help is not None else inspect.getdoc(cb) if cb else None)
        for p in (inspect.signature(cb).parameters.values() if cb else ()):
            if isinstance(p.default, (typer.models.OptionInfo, typer.models.ArgumentInfo)):
                p.default.help = esc(p.default.help)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            escape_help_markup(group.typer_instance)
    info = typer_app.info
    info.help = esc(info.help) if isinstance(info.help, str) else info.help
