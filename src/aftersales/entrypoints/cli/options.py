"""Options shared by every command, so their names and help stay the same everywhere."""

from __future__ import annotations

import typer

from aftersales.entrypoints.cli.render import OutputFormat

DbOption = typer.Option(
    None,
    "--db",
    help="Store URL (default: $AFTERSALES_DATABASE_URL, else sqlite:///aftersales.db). "
    "A plain file path means a SQLite file.",
)
FormatOption = typer.Option(OutputFormat.table, "--format", "-f", help="Output format: table, json or csv.")
