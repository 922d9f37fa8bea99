"""``aftersales metrics [NAME ...]``: retention metrics on any source and engine (no NAME: the scorecard)."""

from __future__ import annotations

import sys
from datetime import date
from enum import StrEnum

import typer

from aftersales.core.errors import PartialSuccess, ValidationError
from aftersales.entrypoints.cli.options import FormatOption
from aftersales.entrypoints.cli.render import OutputFormat, render_records


class Period(StrEnum):
    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


def _date(text: str | None, flag: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise ValidationError(f"{flag} {text!r}: expected a date such as 2024-01-31") from None


_KEYS = ("metric", "period", "segment", "age", "value")


def _compact(record: dict) -> dict:
    """One readable table row: the key columns, then the formula's parts in one cell."""
    out = {k: record[k] for k in _KEYS if k in record}
    out["parts"] = ", ".join(f"{k}={_cell(v)}" for k, v in record.items() if k not in _KEYS)
    return out


def _cell(v: object) -> str:
    return f"{v:,.4g}" if isinstance(v, float) else str(v)


def metrics(
    names: list[str] = typer.Argument(None, help="Metrics to compute (default: the headline scorecard)."),
    source: str = typer.Option(None, "--source", help="DB URL, folder of <table>.parquet|.csv, or one file."),
    engine: str = typer.Option(None, "--engine", help="duckdb, sqlite, postgres or spark (default: from the source)."),
    period: Period = typer.Option(Period.month, "--period", help="Period of the time series."),
    start: str = typer.Option(None, "--from", help="First day (default: a year of complete periods before --to)."),
    end: str = typer.Option(None, "--to", help="Day after the last (default: start of the period of the last order)."),
    by: str = typer.Option(None, "--by", help="Break down by a column (channel, country, acquisition_channel...)."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Compute retention metrics; with no NAME, print the headline scorecard for the last complete period."""
    from aftersales import bootstrap
    from aftersales.services import metrics as service

    tz = bootstrap.settings().reporting_timezone
    with bootstrap.open_source(source, engine) as src:
        if names:
            opts = {"start": _date(start, "--from"), "end": _date(end, "--to")}
            result = service.compute(src, names, period=period.value, tz=tz, by=by, **opts)
        else:
            cards = service.scorecard(src, period=period.value, as_of=_date(end, "--to"), tz=tz, by=by)
            result = service.MetricsResult(cards)
    rows = result.records if fmt != OutputFormat.table else [_compact(r) for r in result.records]
    render_records(rows, fmt, title="Metrics" if names else "Scorecard")
    for line in result.errors:
        print(f"error: {line}", file=sys.stderr)
    if result.errors and result.records:
        raise PartialSuccess(f"{len(result.errors)} metric(s) could not run", result)
    if result.errors:
        raise ValidationError("no metric could run")


def register(app: typer.Typer) -> None:
    app.command("metrics")(metrics)
