"""Progress bars for long work (Rich), silent when output is not a terminal or for --json."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator, Optional


class Progress:
    """A thin wrapper so stages report progress without knowing about Rich.

    ``task = p.add(description, total)``; ``p.advance(task, n)``; ``p.update(task, completed=...)``.
    """

    def __init__(self, rich_progress=None):
        self._p = rich_progress

    def add(self, description: str, total: Optional[float] = None):
        return self._p.add_task(description, total=total) if self._p else None

    def advance(self, task, amount: float = 1) -> None:
        if self._p is not None and task is not None:
            self._p.advance(task, amount)

    def update(self, task, **kw) -> None:
        if self._p is not None and task is not None:
            self._p.update(task, **kw)

    def log(self, message: str) -> None:
        if self._p is not None:
            self._p.console.print(message)


NULL = Progress(None)


@contextmanager
def progress_bar(enabled: bool = True, seconds: bool = False) -> Iterator[Progress]:
    """A Rich progress bar on stderr. ``seconds=True`` shows audio time done instead of counts."""
    if not enabled or not sys.stderr.isatty():
        yield NULL
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress as RP, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = [TextColumn("{task.description}"), BarColumn()]
    columns.append(TextColumn("{task.completed:.0f}/{task.total:.0f} s") if seconds else MofNCompleteColumn())
    columns += [TimeElapsedColumn(), TimeRemainingColumn()]
    with RP(*columns, console=Console(stderr=True), transient=False) as p:
        yield Progress(p)
