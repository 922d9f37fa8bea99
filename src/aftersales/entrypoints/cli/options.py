"""Options shared by every command, so their names and help stay the same everywhere, and the one
parser of their date values."""

from __future__ import annotations

from datetime import date

import typer

from aftersales.core.errors import FieldError, ValidationError
from aftersales.entrypoints.cli.render import OutputFormat

__all__ = ["DbOption", "EngineOption", "FormatOption", "SourceOption", "parse_date"]

DbOption = typer.Option(
    None,
    "--db",
    help="Store URL (default: $AFTERSALES_DATABASE_URL, else sqlite:///aftersales.db). "
    "A plain file path means a SQLite file.",
)
FormatOption = typer.Option(OutputFormat.table, "--format", "-f", help="Output format: table, json or csv.")
SourceOption = typer.Option(
    None,
    "--source",
    help="Read from files or another engine instead of the store: a folder of <table>.parquet|.csv, "
    "one file, or a DB URL (default: the store, see --db).",
)
EngineOption = typer.Option(None, "--engine", help="duckdb, sqlite, postgres or spark (default: from the source).")


def parse_date(text: str | None, field: str) -> date | None:
    """The calendar day ``text`` (ISO ``YYYY-MM-DD``) given to option ``--field``; None when not given.

    A wrong value is a :class:`ValidationError` located at ``field``, which the CLI reports as the
    option (``--to: ...``, exit 2):

    >>> parse_date("2024-01-31", "to"), parse_date(None, "to")
    (datetime.date(2024, 1, 31), None)
    >>> parse_date("31/01/2024", "to")
    Traceback (most recent call last):
    aftersales.core.errors.ValidationError: --to: '31/01/2024' is not a date such as 2024-01-31
    """
    if text is None or text == "":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        message = f"{text!r} is not a date such as 2024-01-31"
        flag = "--" + field.replace("_", "-")
        raise ValidationError(f"{flag}: {message}", [FieldError((field,), message)]) from None
