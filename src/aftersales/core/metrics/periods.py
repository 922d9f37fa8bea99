"""Calendar periods cut in the reporting time zone, as UTC instants the engines compare against.

Engines run their sessions in UTC (Ibis sets it on DuckDB, PostgreSQL and Spark), so "March in
Europe/Oslo" is never left to a session setting: the boundaries are computed here, in Python, as
UTC instants, and every metric compares stored UTC time stamps against them. Periods are half-open,
``[start, end)``: an order at exactly midnight on the 1st belongs to the month that starts then.

>>> p = calendar_periods("month", date(2024, 3, 1), date(2024, 5, 1), "Europe/Oslo")
>>> [str(d) for d in p.labels]
['2024-03-01', '2024-04-01']
>>> [b.isoformat() for b in p.bounds]  # Oslo is UTC+1 in March and UTC+2 (summer time) in April
['2024-02-29T23:00:00+00:00', '2024-03-31T22:00:00+00:00', '2024-04-30T22:00:00+00:00']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal, get_args
from zoneinfo import ZoneInfo

from aftersales.core.errors import FieldError, ValidationError

if TYPE_CHECKING:
    import ibis.expr.types as ir

# Ibis is imported inside the three functions that build expressions: the CLI reads PERIOD_KINDS
# from here while it builds its command tree, and `aftersales --help` must not load Ibis (issue 11).

__all__ = [
    "MAX_PERIODS",
    "PERIOD_KINDS",
    "PeriodKind",
    "PeriodStatus",
    "Periods",
    "calendar_periods",
    "custom_period",
    "extended_back",
    "latest_periods",
    "local_day_end",
    "local_day_number",
    "period_floor",
    "period_index",
    "period_status",
    "timestamp_literal",
    "utc_offsets",
]

PeriodKind = Literal["day", "week", "month", "quarter", "year"]
PERIOD_KINDS: tuple[PeriodKind, ...] = get_args(PeriodKind)  # the one list: CLI choices and API Literal derive from it
MAX_PERIODS = 400  # a time series wider than this is a query no engine should be asked to run
_STEP_MONTHS = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True)
class Periods:
    """Consecutive half-open periods ``[bounds[i], bounds[i + 1])``.

    ``bounds`` are UTC instants (n + 1 of them for n periods); ``labels`` are the local start
    dates (what reports show); ``kind`` is a calendar unit or ``"custom"`` for one free window.
    """

    kind: str
    tz: str
    bounds: tuple[datetime, ...]
    labels: tuple[date, ...]

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def start(self) -> datetime:
        return self.bounds[0]

    @property
    def end(self) -> datetime:
        return self.bounds[-1]


def period_floor(d: date, kind: str) -> date:
    """The first day of the calendar period of ``kind`` containing ``d`` (weeks start on Monday).

    >>> period_floor(date(2024, 8, 15), "quarter"), period_floor(date(2024, 8, 15), "week")
    (datetime.date(2024, 7, 1), datetime.date(2024, 8, 12))
    """
    if kind == "day":
        return d
    if kind == "week":
        return d - timedelta(days=d.weekday())
    if kind == "month":
        return d.replace(day=1)
    if kind == "quarter":
        return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    if kind == "year":
        return date(d.year, 1, 1)
    text = f"unknown period {kind!r}; use one of {', '.join(PERIOD_KINDS)}"
    raise ValidationError(text, [FieldError(("period",), text)])


def _next(d: date, kind: str) -> date:
    if kind == "day":
        return d + timedelta(days=1)
    if kind == "week":
        return d + timedelta(days=7)
    months = d.year * 12 + d.month - 1 + _STEP_MONTHS[kind]
    return date(months // 12, months % 12 + 1, 1)


def _instant(d: date, tz: str) -> datetime:
    """Local midnight starting ``d`` in ``tz``, as a UTC instant (a skipped midnight moves forward)."""
    local = datetime.combine(d, time(0), tzinfo=ZoneInfo(tz))
    # Round-trip through UTC normalises a midnight that a DST jump skips (fold rules of PEP 495).
    return local.astimezone(UTC)


def calendar_periods(kind: str, start: date, end: date, tz: str = "UTC") -> Periods:
    """The calendar periods of ``kind`` that cover ``[start, end)`` in the zone ``tz``.

    The first period is the one containing ``start``; the last one contains the day before ``end``.
    """
    if end <= start:
        raise _empty_range(start, end)
    labels: list[date] = []
    d = period_floor(start, kind)
    while d < end:
        labels.append(d)
        d = _next(d, kind)
        if len(labels) > MAX_PERIODS:
            text = f"more than {MAX_PERIODS} {kind} periods from {start} to {end}: use a longer period or fewer days"
            raise ValidationError(text, [FieldError(("period",), text)])
    bounds = tuple(_instant(x, tz) for x in [*labels, d])
    return Periods(kind, tz, bounds, tuple(labels))


def custom_period(start: date, end: date, tz: str = "UTC") -> Periods:
    """One free window ``[start, end)`` (local midnights in ``tz``)."""
    if end <= start:
        raise _empty_range(start, end)
    return Periods("custom", tz, (_instant(start, tz), _instant(end, tz)), (start,))


def _empty_range(start: date, end: date) -> ValidationError:
    text = f"empty date range: from {start} to {end}"
    return ValidationError(text, [FieldError(("from",), f"must be before the end date ({end})")])


@dataclass(frozen=True)
class PeriodStatus:
    """A reported period: its first day, the day after the last one counted, and whether it is over.

    A period is ``complete`` when its whole calendar span lies before ``today`` (the reporting zone's
    current date, given by the caller: core never reads the clock) and was counted in full. Otherwise
    it is shown "to date": ``end`` is then the day after ``today`` (orders of today count).
    """

    start: date
    end: date
    complete: bool

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        """``2024-03-01 to 2024-03-31`` for a complete period, ``2024-03-01 to date (through 2024-03-15)``."""
        if self.complete:
            return f"{self.start} to {self.last_day}"
        return f"{self.start} to date (through {self.last_day})"


def _local_date(instant: datetime, tz: str) -> date:
    return instant.astimezone(ZoneInfo(tz)).date()


def period_status(periods: Periods, today: date) -> tuple[PeriodStatus, ...]:
    """Each period's :class:`PeriodStatus` as of ``today`` (the current local date).

    >>> p = latest_periods("month", date(2024, 3, 14), date(2024, 3, 15), span=2)
    >>> [s.label for s in period_status(p, date(2024, 3, 15))]
    ['2024-02-01 to 2024-02-29', '2024-03-01 to date (through 2024-03-15)']
    """
    out = []
    for i, start in enumerate(periods.labels):
        end = _local_date(periods.bounds[i + 1], periods.tz)
        natural = end if periods.kind == "custom" else _next(start, periods.kind)
        out.append(PeriodStatus(start, end, complete=end >= natural and natural <= today))
    return tuple(out)


def latest_periods(
    kind: str, last_day: date, today: date, *, span: int = 1, tz: str = "UTC", start: date | None = None
) -> Periods:
    """``span`` periods of ``kind`` ending with the latest one that holds data (the one containing
    ``last_day``, the local date of the last record), or the periods from ``start`` to that one.

    When the latest period has not ended by ``today`` it is cut at the end of ``today`` (shown "to
    date"), so that "active at the period's end" means active now, not at a future date. An earlier
    default (the last *complete* period) hid every order of the current month.

    >>> p = latest_periods("month", date(2024, 3, 14), today=date(2024, 3, 15))
    >>> [str(d) for d in p.labels], p.end.isoformat()  # March to date: through the 15th
    (['2024-03-01'], '2024-03-16T00:00:00+00:00')
    >>> latest_periods("month", date(2024, 3, 14), today=date(2024, 4, 2)).end.isoformat()  # March is over
    '2024-04-01T00:00:00+00:00'
    """
    latest = period_floor(last_day, kind)
    natural = _next(latest, kind)
    end = natural if natural <= today else min(natural, max(today, last_day) + timedelta(days=1))
    first = start
    if first is None:
        first = latest
        for _ in range(max(span, 1) - 1):
            first = period_floor(first - timedelta(days=1), kind)
    periods = calendar_periods(kind, first, natural, tz)
    if end < natural:
        periods = replace(periods, bounds=(*periods.bounds[:-1], _instant(end, tz)))
    return periods


def timestamp_literal(value: datetime) -> ir.TimestampScalar:
    """A UTC timestamp literal that every backend compares exactly against ``timestamp('UTC')`` columns."""
    import ibis

    return ibis.literal(value.astimezone(UTC), type="timestamp('UTC')")


def utc_offsets(tz: str, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """``[(from_instant, offset_seconds), ...]``: the zone's UTC offset, piecewise, over ``[start, end]``.

    The first entry starts at ``start``; each later one at a transition (found on an hourly scan,
    then bisected to the second).

    >>> [(t.isoformat(), o) for t, o in utc_offsets("Europe/Oslo", datetime(2024, 3, 1, tzinfo=UTC),
    ...                                               datetime(2024, 4, 1, tzinfo=UTC))]
    [('2024-03-01T00:00:00+00:00', 3600), ('2024-03-31T01:00:00+00:00', 7200)]
    """
    zone = ZoneInfo(tz)

    def off(t: datetime) -> int:
        delta = t.astimezone(zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    out = [(start, off(start))]
    t = start
    step = timedelta(hours=1)
    while t < end:
        nxt = min(t + step, end)
        if off(nxt) != out[-1][1]:
            lo, hi = t, nxt  # off(lo) == current, off(hi) differs: bisect to the second
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if mid <= lo:
                    break
                if off(mid) == out[-1][1]:
                    lo = mid
                else:
                    hi = mid
            out.append((hi, off(hi)))
        t = nxt
    return out


def local_day_number(ts: ir.TimestampValue, tz: str, start: datetime, end: datetime) -> ir.IntegerValue:
    """Days since 1970-01-01 of the *local* calendar date of ``ts`` in ``tz``.

    The zone's offset is applied piecewise (a CASE over the DST transitions between ``start`` and
    ``end``), because engines run in UTC and Ibis has no portable zone conversion. Time stamps
    outside ``[start, end]`` use the nearest known offset.
    """
    import ibis

    offsets = utc_offsets(tz, start, end)
    if len(offsets) == 1:
        offset: ir.IntegerValue = ibis.literal(offsets[0][1], type="int64")
    else:
        cases = [(ts < timestamp_literal(t), ibis.literal(offsets[k][1])) for k, (t, _) in enumerate(offsets[1:])]
        offset = ibis.cases(*cases, else_=ibis.literal(offsets[-1][1]))
    seconds = ts.epoch_seconds().cast("float64") + offset.cast("float64")
    return (seconds / 86400.0).floor().cast("int64")


def local_day_end(day: int, tz: str, start: datetime, end: datetime) -> datetime | None:
    """The UTC instant ``B`` with ``local_day_number(ts, tz, start, end) <= day`` exactly when ``ts < B``.

    A filter on the stored time stamp instead of the computed day: an engine compares the column
    (and can skip Parquet row groups) instead of computing the day twice, once to filter and once
    to group. ``None`` when no such instant exists: when a backward offset change crosses a local
    midnight (Beirut's autumn change at 00:00 goes back to 23:00 the previous day), days are not
    monotonic in time and the caller must filter on the day itself. Same offsets as
    :func:`local_day_number` (same ``start``/``end``), so both agree to the microsecond: offsets
    are whole seconds, and the engines' float day arithmetic never rounds a time stamp before a
    day boundary onto it within 1900–2199 (ulp(seconds) < 1 µs there).

    >>> b = local_day_end((date(2024, 3, 31) - date(1970, 1, 1)).days, "Europe/Oslo",
    ...                   datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 5, 1, tzinfo=UTC))
    >>> b.isoformat()  # Oslo's 31 March 2024 ends at 1 April 00:00 CEST (UTC+2)
    '2024-03-31T22:00:00+00:00'
    """
    offsets = utc_offsets(tz, start, end)
    limit = (day + 1) * 86400  # the first local second of the next day, as local epoch seconds
    starts: list[float] = [-math.inf] + [t.timestamp() for t, _ in offsets[1:]]
    stops = [*starts[1:], math.inf]
    bound: float | None = None
    for lo, hi, (_, off) in zip(starts, stops, offsets, strict=True):
        cut = float(limit - off)  # in this piece, ts < cut <=> its local day <= day
        if bound is None:
            if cut < hi:  # the piece is not wholly inside: the prefix ends here
                bound = max(lo, cut)
        elif cut > lo:  # a later piece has days <= day again: not a prefix
            return None
    if bound is None:  # unreachable: the last piece runs to +inf
        return None
    return datetime.fromtimestamp(bound, UTC)


def period_index(ts: ir.TimestampValue, periods: Periods) -> ir.IntegerValue:
    """Which period ``ts`` falls in: ``i`` with ``bounds[i] <= ts < bounds[i + 1]``, else NULL.

    Calendar days and weeks are counted arithmetically on the local day number; months, quarters,
    years and custom windows use a CASE over the UTC boundaries (at most :data:`MAX_PERIODS` arms).
    """
    import ibis

    b = periods.bounds
    inside = (ts >= timestamp_literal(b[0])) & (ts < timestamp_literal(b[-1]))
    if periods.kind in ("day", "week"):
        step = 1 if periods.kind == "day" else 7
        day0 = (periods.labels[0] - date(1970, 1, 1)).days
        local = local_day_number(ts, periods.tz, b[0], b[-1])
        idx = ((local - day0).cast("float64") / float(step)).floor().cast("int64")
        return ibis.ifelse(inside, idx, ibis.null("int64"))
    cases = [(ts < timestamp_literal(b[i + 1]), ibis.literal(i, type="int64")) for i in range(len(periods))]
    return ibis.ifelse(inside, ibis.cases(*cases, else_=ibis.null("int64")), ibis.null("int64"))


def extended_back(periods: Periods) -> Periods:
    """The same periods with the one before the first prepended (for period-over-period growth)."""
    if periods.kind == "custom":
        end_local = periods.bounds[-1].astimezone(ZoneInfo(periods.tz)).date()
        first = periods.labels[0] - (end_local - periods.labels[-1])
        return Periods("custom", periods.tz, (_instant(first, periods.tz), *periods.bounds), (first, *periods.labels))
    first = period_floor(periods.labels[0] - timedelta(days=1), periods.kind)
    return Periods(periods.kind, periods.tz, (_instant(first, periods.tz), *periods.bounds), (first, *periods.labels))
