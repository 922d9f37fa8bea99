"""One progress-bar style for long commands: on stderr, only on a terminal, cleared when done.

``rich`` is imported when a bar is made, not when the command tree is built (start-up cost).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress

__all__ = ["progress"]


def progress(*, bar: bool = True) -> Progress:
    """A ``rich`` progress display for stderr; silent when stderr is not a terminal (a pipe, a file, CI),
    as docs/cli.md promises: a bar redrawn into a log file is noise."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    err = Console(stderr=True)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), *((BarColumn(),) if bar else ()), TimeElapsedColumn())
    return Progress(*columns, console=err, transient=True, disable=not err.is_terminal)
