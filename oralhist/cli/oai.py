"""oai: the OAI-PMH endpoint for harvesters."""

from __future__ import annotations

import typer

from oralhist.cli.app import app
from oralhist.cli.common import console, handle_errors, workspace


def oai_asgi(ws, page_size: int = 100):
    """The OAI-PMH app mounted at /oai (what ``oralhist oai`` serves)."""
    from oralhist.outputs.publish.oai import create_app

    return create_app(ws, page_size=page_size, path="/oai")


@app.command()
@handle_errors
def oai(
    ctx: typer.Context,
    port: int = typer.Option(8001, "--port", help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0 for every interface)."),
    page_size: int = typer.Option(100, "--page-size", help="Records per response before a resumption token."),
) -> None:
    """Serve the archive's public records over OAI-PMH at /oai: oai_dc, oai_qdc and edm, sets per museum and trade.

    Harvesters (Europeana, Isidore, departmental portals) need no login. Identifiers use
    [site] oai_repository_identifier; withdrawn interviews are answered as deleted records.

    Example: oralhist oai --port 8001   (then http://127.0.0.1:8001/oai?verb=Identify)
    """
    import uvicorn

    ws = workspace(ctx)
    console.print(f"OAI-PMH: http://{host}:{port}/oai?verb=Identify", highlight=False)
    uvicorn.run(oai_asgi(ws, page_size), host=host, port=port, log_level="warning")
