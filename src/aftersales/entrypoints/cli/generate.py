"""``aftersales generate``: write a realistic synthetic store (with its true parameters) to a folder."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from aftersales import bootstrap
from aftersales.core.errors import ValidationError
from aftersales.entrypoints.cli.options import FormatOption
from aftersales.entrypoints.cli.render import OutputFormat, render_records
from aftersales.services.generate import step_count


def _as_of(text: str | None) -> date:
    if text is None:  # today in the business's reporting zone
        return datetime.now(ZoneInfo(bootstrap.settings().reporting_timezone)).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"--as-of {text!r}: expected a date such as 2025-06-30") from None


def generate(
    customers: int = typer.Option(20_000, "--customers", "-n", help="Number of customers to acquire."),
    seed: int = typer.Option(42, "--seed", help="Random seed: the same seed gives the same store."),
    out: Path = typer.Option(..., "--out", help="Folder to write <table>.parquet (or .csv) and truth.json into."),
    csv: bool = typer.Option(False, "--csv", help="Write CSV files instead of Parquet."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Observation end (YYYY-MM-DD, exclusive; default: today in the reporting zone)."
    ),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Generate a synthetic store that follows the data contract; true model parameters go to truth.json."""
    end = _as_of(as_of)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=Console(stderr=True)
    ) as bar:
        task = bar.add_task("generating", total=step_count())
        result = bootstrap.generate_store(
            customers,
            seed,
            end,
            out,
            file_format="csv" if csv else "parquet",
            on_step=lambda name: bar.update(task, advance=1, description=name),
        )
    render_records(result.records(), fmt, title=f"synthetic store in {out} (seed {seed}, as of {end})")


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
