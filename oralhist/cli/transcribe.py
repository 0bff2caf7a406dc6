"""Commands of the transcribe area (registered on the shared app)."""

from oralhist.cli.app import app  # noqa: F401
