"""``aftersales metrics [NAME ...]``: retention metrics on the store, files or another engine (no NAME: the scorecard).

The store comes from ``--db`` / ``AFTERSALES_DATABASE_URL`` / ``./aftersales.db`` like every command;
``--source`` reads files or another database instead. Every report names the periods it shows and
whether the last one is complete (table title; a ``note:`` line on stderr for json/csv, whose
records carry ``complete``).
"""

from __future__ import annotations

import sys
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import typer

from aftersales.core.errors import PartialSuccess, ValidationError
from aftersales.core.metrics.periods import PERIOD_KINDS
from aftersales.entrypoints.cli.options import DbOption, EngineOption, FormatOption, SourceOption, parse_date
from aftersales.entrypoints.cli.render import OutputFormat, format_cell, is_money, render_records

#: The period choices, derived from the one list in core.
Period = StrEnum("Period", [(k, k) for k in PERIOD_KINDS])  # type: ignore[misc]  # mypy wants a literal list


_KEYS = ("metric", "period", "segment", "age", "value")


def _compact(record: dict[str, Any]) -> dict[str, Any]:
    """One readable table row: the key columns (an incomplete period marked "to date"), then the
    formula's parts in one cell."""
    out = {k: record[k] for k in _KEYS if k in record}
    if "period" in out and record.get("complete") is False:
        out["period"] = f"{out['period']} (to date)"
    parts = ((k, v) for k, v in record.items() if k not in (*_KEYS, "complete"))
    out["parts"] = ", ".join(f"{k}={format_cell(v, money=is_money(k))}" for k, v in parts)
    return out


def metrics(
    names: list[str] = typer.Argument(None, help="Metrics to compute (default: the headline scorecard)."),
    db: str | None = DbOption,
    source: str | None = SourceOption,
    engine: str | None = EngineOption,
    period: Period = typer.Option(Period("month"), "--period", help="Period of the time series."),
    start: str = typer.Option(None, "--from", help="First day (default: a year of periods up to --to)."),
    end: str = typer.Option(
        None, "--to", help="Day after the last (default: through the latest period with orders, to date if not over)."
    ),
    by: str = typer.Option(None, "--by", help="Break down by a column (channel, country, acquisition_channel...)."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Compute retention metrics; with no NAME, print the headline scorecard of the latest period with orders."""
    from aftersales import bootstrap
    from aftersales.services.analytical import metrics as service

    tz = bootstrap.settings().reporting_timezone
    today = datetime.now(ZoneInfo(tz)).date()  # entry points read the clock; the service is given today
    kind = str(period.value)
    with bootstrap.open_source(source, engine, db=db) as src:
        if names:
            first, until = parse_date(start, "from"), parse_date(end, "to")
            result = service.compute(src, names, period=kind, start=first, end=until, today=today, tz=tz, by=by)
        else:
            result = service.scorecard(src, period=kind, end=parse_date(end, "to"), today=today, tz=tz, by=by)
    rows = result.records if fmt != OutputFormat.table else [_compact(r) for r in result.records]
    title = f"{'Metrics' if names else 'Scorecard'}: {result.caption}"
    render_records(rows, fmt, title=title)
    if fmt != OutputFormat.table:
        print(f"note: {result.caption}", file=sys.stderr)
    for line in result.errors:
        print(f"error: {line}", file=sys.stderr)
    if result.errors and result.records:
        raise PartialSuccess(f"{len(result.errors)} metric(s) could not run", result)
    if result.errors:
        raise ValidationError("no metric could run")


def register(app: typer.Typer) -> None:
    from aftersales.entrypoints.cli.lazy_help import MetricNamesCommand

    app.command("metrics", cls=MetricNamesCommand)(metrics)  # --help lists the metric names
