"""One progress-bar style for long commands: on stderr, only on a terminal, cleared when done."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

__all__ = ["progress"]


def progress(*, bar: bool = True) -> Progress:
    """A ``rich`` progress display for stderr; silent when stderr is not a terminal (scripts, CI)."""
    err = Console(stderr=True)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), *((BarColumn(),) if bar else ()), TimeElapsedColumn())
    return Progress(*columns, console=err, transient=True, disable=not err.is_terminal)
