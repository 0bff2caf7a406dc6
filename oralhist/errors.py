"""Named exceptions. The library raises these; only the CLI turns them into exit codes.

Every error names the file (or record) it is about and the reason, so the CLI can print
one line: ``<path>: <reason>``.
"""

from __future__ import annotations

from pathlib import Path


class OralhistError(Exception):
    """Base class. ``path`` is the file or record concerned, ``reason`` a short sentence."""

    exit_code = 2

    def __init__(self, path: str | Path | None, reason: str):
        self.path = str(path) if path is not None else None
        self.reason = reason
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


class WorkspaceError(OralhistError):
    """No workspace found, or a workspace that cannot be used."""


class BadInput(OralhistError):
    """Input rejected before anything was written (bad file, bad manifest, bad flag)."""


class NotAudio(BadInput):
    """The file has no decodable audio stream."""


class DuplicateRecording(BadInput):
    """The same bytes are already in the archive."""

    def __init__(self, path, interview_id: str):
        self.interview_id = interview_id
        super().__init__(path, f"already in the archive (interview {interview_id}); nothing added")


class NotFound(OralhistError):
    """An interview, transcript or term that does not exist."""


class StageError(OralhistError):
    """A stage failed on one input; other inputs may go on (exit 1)."""

    exit_code = 1


class ModelError(OralhistError):
    """The recognition model is missing, corrupt or cannot be fetched."""


class ConflictError(OralhistError):
    """Someone else saved first (editor)."""

    exit_code = 1


class Busy(OralhistError):
    """Another process (maybe on another machine) is running this stage on this interview."""

    exit_code = 1
