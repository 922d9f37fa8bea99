"""Run metrics against a source: pick the periods, build each metric, execute it, collect records.

Which periods: ``start``/``end`` when given (``end`` is the day after the last one). Without
``end``, the series ends with the *latest period that holds data* (the one containing the last
order's local date); when that period has not ended by ``today`` it is cut at the end of today and
reported "to date". ``today`` is the reporting zone's current date, given by the entry point (the
service never reads the clock); without it, the data is taken to be current through its last day.
Every result names its periods (:class:`~aftersales.core.metrics.periods.PeriodStatus`) and each
record carries ``complete``.

A metric whose tables the source lacks is reported in ``errors`` (one line naming the table and
the metric) while the others still run. Metrics that read one intermediate table (a registry
``Stage``: e.g. the period activity behind repeat ratio, returning rate, frequency, AOV and
growth) get it materialised once on the engine (``source.cache``) when two or more of them run.

Invalid input raises :class:`ValidationError` whose field errors name the parameter with a
neutral name (``name``, ``period``, ``from``, ``to``, ``by``); each entry point renders that in
its own terms (``--to`` on the command line, ``query.to`` in the API).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aftersales.core.errors import FieldError, MissingTableError, ValidationError
from aftersales.core.metrics.periods import (
    Periods,
    PeriodStatus,
    calendar_periods,
    latest_periods,
    period_floor,
    period_status,
)
from aftersales.core.metrics.registry import METRICS, SCORECARD, Context, MetricSpec, get_metric
from aftersales.services.operational.guards import dates_in_range
from aftersales.services.ports import AnalyticalSource

if TYPE_CHECKING:
    from ibis.expr.types.relations import CachedTable

__all__ = ["DEFAULT_SPAN", "MetricsResult", "compute", "last_order_day", "scorecard"]

DEFAULT_SPAN = {"day": 14, "week": 8, "month": 12, "quarter": 4, "year": 3}


@dataclass(frozen=True)
class MetricsResult:
    """Records (each with ``complete``), per-metric errors, and the periods the records cover."""

    records: list[dict[str, Any]]
    errors: list[str] = field(default_factory=list)
    periods: tuple[PeriodStatus, ...] = ()
    period: str = "month"
    note: str = ""  # why these periods were chosen, when it is not the obvious choice

    @property
    def caption(self) -> str:
        """The periods shown, in words: ``month 2024-03-01 to date (through 2024-03-15)``."""
        if not self.periods:
            return "no periods"
        if len(self.periods) == 1:
            return f"{self.period} {self.periods[0].label}" + (f" ({self.note})" if self.note else "")
        first, last = self.periods[0], self.periods[-1]
        tail = "" if last.complete else f"; the last to date (through {last.last_day})"
        return f"{len(self.periods)} {self.period}s from {first.start} to {last.last_day}{tail}"


def last_order_day(source: AnalyticalSource, tz: str = "UTC") -> date:
    """The local date (in ``tz``) of the last order: the latest day that holds data."""
    return order_days(source, tz)[1]


def order_days(source: AnalyticalSource, tz: str = "UTC") -> tuple[date, date]:
    """The local dates (in ``tz``) of the first and the last order."""
    if not source.has_table("orders"):
        text = "the source has no orders table to find the latest period by: give an end date"
        raise ValidationError(text, [FieldError(("to",), "required: the source has no orders table to date by")])
    o = source.table("orders")
    [row] = source.execute(o.aggregate(first=o.ordered_at.min(), last=o.ordered_at.max()))
    if row["last"] is None:
        text = "the orders table is empty: give an end date"
        raise ValidationError(text, [FieldError(("to",), "required: the orders table is empty")])
    zone = ZoneInfo(tz)
    return row["first"].astimezone(zone).date(), row["last"].astimezone(zone).date()


def _periods_to(kind: str, start: date | None, end: date, tz: str, span: int) -> Periods:
    """``span`` periods ending with the one that contains the day before ``end`` (or from ``start``)."""
    if start is None:
        start = end
        for _ in range(span):
            start = period_floor(start - timedelta(days=1), kind)
    return calendar_periods(kind, start, end, tz)


def _records(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def key(r: dict[str, Any]) -> tuple[str, str, str, int]:
        return (r["metric"], str(r["period"]), str(r["segment"]), r.get("age", 0))

    return sorted(rows, key=key)


def _complete(
    record: dict[str, Any], spec: MetricSpec, statuses: tuple[PeriodStatus, ...], as_of: date, today: date
) -> bool:
    """Whether the span a record's numbers come from is over and counted in full (see ``MetricSpec.covers``)."""
    if spec.covers == "year_before_as_of":
        return as_of <= today
    if spec.covers == "all_periods":
        return all(s.complete for s in statuses)
    index = {s.start: i for i, s in enumerate(statuses)}
    i = index.get(record["period"])
    if i is None:
        return False
    if spec.covers == "cohort_age":
        i += int(record.get("age") or 0)
    return i < len(statuses) and statuses[i].complete


@dates_in_range
def compute(
    source: AnalyticalSource,
    names: list[str] | tuple[str, ...],
    *,
    period: str = "month",
    start: date | None = None,
    end: date | None = None,
    as_of: date | None = None,
    today: date | None = None,
    tz: str = "UTC",
    by: str | None = None,
    window_days: int = 365,
    include_returns: bool = False,
    span: int | None = None,
) -> MetricsResult:
    """Compute ``names`` (all metrics when empty) and return their records, errors and periods.

    ``end`` (exclusive) picks the last period: the one containing the day before it; ``as_of``
    alone acts as ``end``. Without both, the latest period holding data ends the series (see the
    module docstring). ``span`` periods are shown unless ``start`` is given.
    """
    specs = [get_metric(n) for n in (names or tuple(METRICS))]
    count = span or DEFAULT_SPAN.get(period, 12)
    end = end or as_of
    if end is not None:
        periods = _periods_to(period, start, end, tz, count)
        as_of, now = as_of or end, today or end
    else:
        last = last_order_day(source, tz)
        now = today or last + timedelta(days=1)
        periods = latest_periods(period, last, now, span=count, tz=tz, start=start)
        as_of = periods.end.astimezone(ZoneInfo(tz)).date()
    statuses = period_status(periods, now)
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
                rows = _records(source.execute(expr))
            except MissingTableError as exc:
                errors.append(f"{spec.name}: {exc}")
                continue
            records.extend({**r, "complete": _complete(r, spec, statuses, as_of, now)} for r in rows)
    finally:
        for cached in stages.values():
            cached.release()
    return MetricsResult(records, errors, statuses, period)


@dates_in_range
def scorecard(
    source: AnalyticalSource,
    *,
    period: str = "month",
    end: date | None = None,
    today: date | None = None,
    tz: str = "UTC",
    by: str | None = None,
) -> MetricsResult:
    """The headline metrics (skipping those whose tables are missing) for one period: the one
    containing the day before ``end``; without ``end``, the latest complete period that holds data,
    or the current one "to date" when no earlier period holds any (a store whose orders all fall in
    this month). A period that is not over is never the default when a complete one exists: its
    rates and growth compare a few days against whole periods (a month 3 days old showed revenue
    growth of -93%). The result's ``note`` says why a period was chosen."""
    names = [n for n in SCORECARD if all(source.has_table(t) for t in METRICS[n].needs)]
    if end is None:
        first, last = order_days(source, tz)
        now = today or last + timedelta(days=1)
        [current] = period_status(latest_periods(period, last, now, span=1, tz=tz), now)
        if not current.complete and first < current.start:
            result = compute(source, names, period=period, end=current.start, today=now, tz=tz, by=by, span=1)
            note = f"the latest complete {period}; the current one, from {current.start}, is not over"
            return replace(result, note=note)
    return compute(source, names, period=period, end=end, today=today, tz=tz, by=by, span=1)
