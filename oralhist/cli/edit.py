"""Commands of the edit area (registered on the shared app)."""

from oralhist.cli.app import app  # noqa: F401
