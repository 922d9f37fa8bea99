"""``aftersales init`` and ``aftersales import``: create the store and load files into it."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from aftersales.core.errors import UnusableInputError
from aftersales.core.urls import mask_url
from aftersales.entrypoints.cli.options import DbOption
from aftersales.entrypoints.cli.progress import progress
from aftersales.entrypoints.cli.render import OutputFormat, render_records

if TYPE_CHECKING:  # the importer pulls in pandas and Arrow: imported when a command runs, not at start-up
    from aftersales.services.importing import ImportResult


def _parse_map(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in pairs:
        file_col, sep, contract_col = p.partition("=")
        if not sep or not file_col or not contract_col:
            raise UnusableInputError(f"--map {p!r}: expected FILE_COLUMN=CONTRACT_COLUMN")
        out[file_col] = f"{out[file_col]},{contract_col}" if file_col in out else contract_col  # one to several
    return out


def _records(r: ImportResult) -> list[dict[str, object]]:
    rows = [
        {"table": name, "inserted": c.inserted, "updated": c.updated, "unchanged": c.unchanged}
        for name, c in r.tables.items()
    ]
    for row in rows:
        if row["table"] == r.table:
            row.update(read=r.read, rejected=r.rejected, duplicates=r.duplicates)
            if r.assumed_timezone:
                row["assumed_timezone"] = r.assumed_timezone
    return rows


def init(db: str | None = DbOption) -> None:
    """Create the store, or upgrade it to the newest schema."""
    from aftersales import bootstrap

    res = bootstrap.init_store(db)
    state = "created" if res.created else ("upgraded" if res.changed else "already up to date")
    print(f"store {state} at revision {res.after} ({len(res.tables)} tables): {mask_url(bootstrap.database_url(db))}")


def import_(
    table: str = typer.Argument(..., help="Contract table: customers, orders, order_lines, events, ..."),
    path: str = typer.Argument(..., help="File to import."),
    source_format: str | None = typer.Option(
        None, "--format", help="Input format: csv, parquet, jsonl, cdnow or shopify (default: from the extension)."
    ),
    mapping: list[str] = typer.Option(
        [], "--map", help="Rename a file column: FILE_COLUMN=CONTRACT_COLUMN[,CONTRACT_COLUMN...] (one may feed two)."
    ),
    assume_timezone: str | None = typer.Option(
        None, "--assume-timezone", metavar="ZONE", help="Zone of time stamps written without one (IANA name)."
    ),
    create_missing_customers: bool = typer.Option(
        False, "--create-missing-customers", help="Create customers that rows refer to but the store lacks."
    ),
    batch_size: int | None = typer.Option(None, "--batch-size", min=1, help="Rows per transaction."),
    db: str | None = DbOption,
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--output", "-o", help="Summary as table, json or csv."),
) -> None:
    """Import a file into the store. Bad rows go to PATH.rejected.csv; exit 3 when any were rejected."""
    from aftersales import bootstrap

    with progress(bar=False) as bar:
        task = bar.add_task(f"importing {table}", total=None)
        result = bootstrap.import_file(
            table,
            path,
            db=db,
            fmt=source_format,
            mapping=_parse_map(mapping),
            create_missing_customers=create_missing_customers,
            batch_size=batch_size,
            assume_timezone=assume_timezone,
            on_batch=lambda r: bar.update(task, description=f"importing {table}: {r.read:,} rows read"),
        )
    render_records(_records(result), fmt, title=f"import {table} from {path}")
    if result.ignored_columns:
        print(f"ignored columns: {', '.join(result.ignored_columns)}", file=sys.stderr)
    if result.created_customers:
        print(f"created {result.created_customers:,} missing customers", file=sys.stderr)
    if result.rejected:
        print(f"{result.rejected:,} rows rejected: see {result.rejected_path}", file=sys.stderr)
        raise typer.Exit(3)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("import")(import_)
