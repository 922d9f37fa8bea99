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
SourceOption = typer.Option(
    None,
    "--source",
    help="Read from files or another engine instead of the store: a folder of <table>.parquet|.csv, "
    "one file, or a DB URL (default: the store, see --db).",
)
EngineOption = typer.Option(None, "--engine", help="duckdb, sqlite, postgres or spark (default: from the source).")
