"""The `oralhist` command: a thin Typer layer over the library.

Each command group lives in its own small module and registers itself on ``app``. Heavy
libraries are imported inside the commands so that ``oralhist --help`` stays instant.
"""

from __future__ import annotations

from oralhist.cli.app import app  # noqa: F401

# Command modules register their commands on import (order = order in --help).
from oralhist.cli import archive  # noqa: E402,F401  init, ingest, list, show, normalise, verify
from oralhist.cli import transcribe  # noqa: E402,F401  models, transcribe, export, eval
from oralhist.cli import speakers  # noqa: E402,F401  diarize, speakers, index
from oralhist.cli import vocab  # noqa: E402,F401  vocab, link, search, clip
from oralhist.cli import edit  # noqa: E402,F401  edit, import-corrections
from oralhist.cli import serve  # noqa: E402,F401  serve, user
from oralhist.cli import publish  # noqa: E402,F401  consent, publish, run
from oralhist.cli import export  # noqa: E402,F401  export ID --format ...
from oralhist.cli import jobs  # noqa: E402,F401  worker, jobs, jobs retry
from oralhist.cli import oai  # noqa: E402,F401  oai (OAI-PMH server)
from oralhist.cli import exhibit  # noqa: E402,F401  exhibit import/list/show
from oralhist.cli import corrections  # noqa: E402,F401  corrections memory (issue 23)
from oralhist.cli import museums  # noqa: E402,F401  museums import (issue 26)
from oralhist.cli import portrait  # noqa: E402,F401  portrait (issue 26)
from oralhist.cli import replace  # noqa: E402,F401  replace FIND REPLACEMENT (issue 23)

from oralhist.cli.app import escape_help_markup  # noqa: E402  (last: every command is registered)

escape_help_markup(app)  # issue 25: "[site] base_url" stays in --help


def main() -> None:
    app()
