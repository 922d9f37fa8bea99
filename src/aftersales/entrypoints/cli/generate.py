"""``aftersales generate``: write a realistic synthetic store (with its true parameters) to a folder."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import typer

from aftersales.entrypoints.cli.options import FormatOption, parse_date
from aftersales.entrypoints.cli.progress import progress
from aftersales.entrypoints.cli.render import OutputFormat, render_records


def _as_of(text: str | None) -> date:
    """``--as-of``, else today in the business's reporting zone."""
    from aftersales import bootstrap

    return parse_date(text, "as_of") or datetime.now(ZoneInfo(bootstrap.settings().reporting_timezone)).date()


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
    from aftersales import bootstrap
    from aftersales.services.generate import step_count

    end = _as_of(as_of)
    with progress() as bar:
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
