"""Progress on a terminal (rich, on stderr); silence when stderr is not a TTY or with --quiet."""

from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from composer.compilation import Silent


def stderr_bar(transient: bool, *more: ProgressColumn) -> Progress:
    """A rich progress display on stderr: description, bar, done/total, time elapsed, ``more``."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        *more,
        console=Console(stderr=True),
        transient=transient,
    )


class TerminalProgress:
    """One line per pass; a bar over sections while composing."""

    def __init__(self) -> None:
        self._bar = stderr_bar(True)
        self._task: TaskID | None = None

    def __enter__(self) -> TerminalProgress:
        self._bar.__enter__()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._bar.__exit__(t, e, tb)

    def pass_started(self, name: str) -> None:
        if self._task is None:
            self._task = self._bar.add_task(name, total=None)
        self._bar.update(self._task, description=name)

    def section_done(self, done: int, total: int, section_id: str) -> None:
        if self._task is not None:
            self._bar.update(
                self._task, description=f"compose {section_id}", completed=done, total=total
            )


class _Null(Silent):
    def __enter__(self) -> _Null:
        return self

    def __exit__(self, *args: object) -> None:
        return None


def progress_for(quiet: bool) -> TerminalProgress | _Null:
    if quiet or not sys.stderr.isatty():
        return _Null()
    return TerminalProgress()
