"""Run metrics against a source: pick the periods, build each metric, execute it, collect records.

A metric whose tables the source lacks is reported in ``errors`` (one line naming the table and
the metric) while the others still run. Metrics that read one intermediate table (a registry
``Stage``: e.g. the period activity behind repeat ratio, returning rate, frequency, AOV and
growth) get it materialised once on the engine (``source.cache``) when two or more of them run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import ibis.expr.types as ir
from ibis.expr.types.relations import CachedTable

from aftersales.core.errors import MissingTableError, ValidationError
from aftersales.core.metrics.periods import Periods, calendar_periods, period_floor
from aftersales.core.metrics.registry import METRICS, SCORECARD, Context, get_metric
from aftersales.services.guards import dates_in_range

__all__ = ["DEFAULT_SPAN", "MetricsResult", "compute", "default_as_of", "default_periods", "scorecard"]

DEFAULT_SPAN = {"day": 14, "week": 8, "month": 12, "quarter": 4, "year": 3}


class SourcePort(Protocol):
    """What the service needs from an engine source (``adapters.engines.Source``)."""

    def has_table(self, name: str) -> bool: ...
    def table(self, name: str) -> ir.Table: ...
    def execute(self, expr: ir.Table) -> list[dict]: ...
    def cache(self, expr: ir.Table) -> CachedTable: ...


@dataclass(frozen=True)
class MetricsResult:
    records: list[dict[str, Any]]
    errors: list[str] = field(default_factory=list)


def default_as_of(source: SourcePort, tz: str = "UTC") -> date:
    """The day after the last order's local date: the "as of" date when none is given."""
    if not source.has_table("orders"):
        raise ValidationError("no orders table to date the data by: give --to (an as-of date)")
    o = source.table("orders")
    [row] = source.execute(o.aggregate(last=o.ordered_at.max()))
    if row["last"] is None:
        raise ValidationError("the orders table is empty: give --to (an as-of date)")
    return row["last"].astimezone(ZoneInfo(tz)).date() + timedelta(days=1)


def default_periods(kind: str, as_of: date, start: date | None, end: date | None, tz: str, span: int) -> Periods:
    """Complete periods of ``kind`` ending at the start of the one containing ``as_of`` (or ``end``)."""
    end = end or period_floor(as_of, kind)
    if start is None:
        start = end
        for _ in range(span):
            start = period_floor(start - timedelta(days=1), kind)
    return calendar_periods(kind, start, end, tz)


def _records(rows: list[dict]) -> list[dict[str, Any]]:
    def key(r: dict) -> tuple:
        return (r["metric"], str(r["period"]), str(r["segment"]), r.get("age", 0))

    return sorted(rows, key=key)


@dates_in_range
def compute(
    source: SourcePort,
    names: list[str] | tuple[str, ...],
    *,
    period: str = "month",
    start: date | None = None,
    end: date | None = None,
    as_of: date | None = None,
    tz: str = "UTC",
    by: str | None = None,
    window_days: int = 365,
    include_returns: bool = False,
    span: int | None = None,
) -> MetricsResult:
    """Compute ``names`` (all metrics when empty) and return their records and per-metric errors."""
    specs = [get_metric(n) for n in (names or tuple(METRICS))]
    if as_of is None:
        as_of = end or default_as_of(source, tz)
    periods = default_periods(period, as_of, start, end, tz, span or DEFAULT_SPAN.get(period, 12))
    ctx = Context(periods, as_of, tz, by, window_days, include_returns)
    stage_uses = Counter(spec.stage.key for spec in specs if spec.stage is not None)
    stages: dict[str, CachedTable] = {}
    records: list[dict[str, Any]] = []
    errors: list[str] = []
    try:
        for spec in specs:
            missing = [t for t in spec.needs if not source.has_table(t)]
            if missing:
                errors.append(f"{spec.name}: the source has no table {missing[0]!r}")
                continue
            optional = [t for t in ("customers", "costs") if source.has_table(t)]
            try:
                tables = {t: source.table(t) for t in (*spec.needs, *optional)}
                if spec.stage is not None and spec.finish is not None and stage_uses[spec.stage.key] > 1:
                    if spec.stage.key not in stages:
                        stages[spec.stage.key] = source.cache(spec.stage.build(tables, ctx))
                    expr = spec.finish(stages[spec.stage.key], ctx)
                else:
                    expr = spec.build(tables, ctx)
                records.extend(_records(source.execute(expr)))
            except MissingTableError as exc:
                errors.append(f"{spec.name}: {exc}")
    finally:
        for cached in stages.values():
            cached.release()
    return MetricsResult(records, errors)


def scorecard(
    source: SourcePort,
    *,
    period: str = "month",
    as_of: date | None = None,
    tz: str = "UTC",
    by: str | None = None,
) -> list[dict[str, Any]]:
    """The headline scorecard: each headline metric for the last complete period (skipping missing tables)."""
    names = [n for n in SCORECARD if all(source.has_table(t) for t in METRICS[n].needs)]
    return compute(source, names, period=period, as_of=as_of, tz=tz, by=by, span=1).records
