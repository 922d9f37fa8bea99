"""Survey reports: response rates, score trends with intervals, and remeasuring between two periods.

* **Response rates** (:func:`response_rates`) per survey from its sends: ``sent``, ``answered`` (a
  score given), ``completed`` (the follow-up form sent) and answered / sent with its 95 % Wilson
  interval. (Opens are not tracked: the page is the first thing a respondent sees.)
* **Trends** (:func:`score_trends`) per calendar period of the answers in ``survey_responses``: the
  NPS with its Wald interval (``core/metrics/surveys.py``: the mean of +100 / 0 / −100 per answer),
  CSAT (share of 4s and 5s, × 100) with its Wilson interval, CES (mean) with its t interval. The
  engine counts; Python computes the intervals on the few resulting rows.
* **Remeasure** (:func:`remeasure`): the change in NPS, CSAT or CES between two periods ("before"
  and "after" a change) through the experiment engine (``core/experiments``: Welch's t interval on
  the per-answer values, as an absolute difference in the score's own units). The two periods'
  respondents are taken as independent samples; a customer answering in both makes the interval a
  little conservative or liberal depending on how their answers correlate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from scipy import stats

from aftersales.core.errors import FieldError, ValidationError
from aftersales.core.experiments.analysis import AnalysisOptions
from aftersales.core.metrics.base import count_if
from aftersales.core.metrics.periods import Periods, calendar_periods, custom_period, period_index
from aftersales.core.metrics.surveys import Z95
from aftersales.core.surveys.model import OVERALL
from aftersales.services.analytical.experiments import analyze_summary
from aftersales.services.ports import AnalyticalSource, UnitOfWorkFactory

__all__ = [
    "SCORE_KINDS",
    "RemeasureResult",
    "ResponseRate",
    "TrendPoint",
    "remeasure",
    "response_rates",
    "score_trends",
    "wilson",
]

SCORE_KINDS = ("nps", "csat", "ces")


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (Wilson 1927), as fractions.

    >>> [round(x, 3) for x in wilson(40, 100)]
    [0.309, 0.498]
    """
    if n == 0:
        return (math.nan, math.nan)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (centre - half, centre + half)


@dataclass(frozen=True)
class ResponseRate:
    """One survey's sends and answers."""

    survey: str
    kind: str
    status: str
    sent: int
    answered: int
    completed: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None


def response_rates(uow: UnitOfWorkFactory) -> list[ResponseRate]:
    """Every survey's response rate (see the module), by survey name."""
    with uow() as u:
        surveys = {s.survey_id: s for s in u.surveys.list_surveys()}
        counts = u.surveys.send_counts()
    per: dict[str, dict[str, int]] = {sid: {} for sid in surveys}
    for sid, status, n in counts:
        per.setdefault(sid, {})[status] = n
    out = []
    for sid, record in sorted(surveys.items(), key=lambda item: item[1].name):
        c = per.get(sid, {})
        sent = sum(c.values())
        answered = c.get("partial", 0) + c.get("answered", 0)
        low, high = wilson(answered, sent) if sent else (math.nan, math.nan)
        out.append(
            ResponseRate(
                record.name, record.kind, record.status, sent, answered, c.get("answered", 0),
                answered / sent if sent else None, low if sent else None, high if sent else None,
            )
        )  # fmt: skip
    return out


@dataclass(frozen=True)
class TrendPoint:
    """One period's score of one survey (or of all surveys of the kind: ``survey`` None)."""

    period: date
    survey: str | None
    kind: str
    responses: int
    value: float | None
    ci_low: float | None
    ci_high: float | None


def _check_kind(kind: str) -> None:
    if kind not in SCORE_KINDS:
        message = f"{kind!r} is not one of: {', '.join(SCORE_KINDS)}"
        raise ValidationError(f"kind: {message}", [FieldError(("kind",), message)])


def _answers(source: AnalyticalSource, kind: str, survey: str | None, dimension: str) -> ir.Table:
    t = source.table("survey_responses")
    t = t.filter((t.kind == kind) & (t.dimension == dimension))
    return t.filter(t.survey_id == survey) if survey is not None else t


_DEFAULT_SPAN = {"day": 14, "week": 56, "month": 366, "quarter": 732, "year": 1096}  # days shown by default


def _window(
    source: AnalyticalSource, rows: ir.Table, period: str, start: date | None, end: date | None, tz: str
) -> Periods:
    if period not in _DEFAULT_SPAN:
        raise ValidationError(f"period: {period!r} is not one of: {', '.join(_DEFAULT_SPAN)}")
    if end is None or start is None:
        last = source.execute(rows.aggregate(last=rows.responded_at.max()))[0]["last"]
        if last is None:
            raise ValidationError("no answers to report on: the survey (or kind) has no responses")
        end = end or (last.date() + timedelta(days=1))
        start = start or end - timedelta(days=_DEFAULT_SPAN[period])
    return calendar_periods(period, start, end, tz)


def _interval(kind: str, n: int, s: float, q: float, good: int) -> tuple[float | None, float | None, float | None]:
    if n == 0:
        return None, None, None
    if kind == "nps":  # s = promoters - detractors, q = promoters + detractors (answers valued ±1)
        p, d = (q + s) / (2 * n), (q - s) / (2 * n)
        value = 100 * (p - d)
        se = 100 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)
        return value, value - Z95 * se, value + Z95 * se
    if kind == "csat":
        low, high = wilson(good, n)
        return 100 * good / n, 100 * low, 100 * high
    mean = s / n
    if n < 2:
        return mean, None, None
    sd = math.sqrt(max((q - n * mean * mean) / (n - 1), 0.0))
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def _values(rows: ir.Table, kind: str) -> ir.NumericValue:
    """Per-answer values whose mean is the score: ±1/0 for NPS, the score otherwise."""
    if kind == "nps":  # integers, then a real cast: PostgreSQL types a literal 1.0 NUMERIC, and sums stay NUMERIC
        return ibis.ifelse(rows.score >= 9, 1, ibis.ifelse(rows.score <= 6, -1, 0)).cast("float64")
    return rows.score.cast("float64")


def score_trends(
    source: AnalyticalSource,
    kind: str,
    *,
    survey: str | None = None,
    period: str = "month",
    start: date | None = None,
    end: date | None = None,
    tz: str = "UTC",
    dimension: str = OVERALL,
    by_survey: bool = False,
) -> list[TrendPoint]:
    """The score of ``kind`` per period (see the module), of one ``survey`` or of all of that kind
    (``by_survey``: one series per survey). Without ``start``/``end``: the year (or equivalent) up to
    the last answer."""
    _check_kind(kind)
    rows = _answers(source, kind, survey, dimension)
    periods = _window(source, rows, period, start, end, tz)
    v = _values(rows, kind)
    rows = rows.mutate(period_index=period_index(rows.responded_at, periods), _v=v)
    rows = rows.filter(rows.period_index.notnull())
    keys = ["period_index", "survey_id"] if by_survey else ["period_index"]
    agg = rows.group_by(keys).aggregate(
        n=rows.count().cast("int64"),
        s=rows._v.sum().cast("float64"),
        q=(rows._v * rows._v).sum().cast("float64"),
        good=count_if(rows.score >= 4),
    )
    found = {(r["period_index"], r.get("survey_id")): r for r in source.execute(agg)}
    names = sorted({key[1] for key in found}, key=str) if by_survey else [survey]
    out = []
    for name in names:
        for i, label in enumerate(periods.labels):
            r = found.get((i, name if by_survey else None), {"n": 0, "s": 0.0, "q": 0.0, "good": 0})
            value, low, high = _interval(kind, int(r["n"]), float(r["s"]), float(r["q"]), int(r["good"]))
            out.append(TrendPoint(label, name, kind, int(r["n"]), value, low, high))
    return out


@dataclass(frozen=True)
class RemeasureResult:
    """The score in each period and the change after − before with its interval and p-value."""

    kind: str
    survey: str | None
    before: TrendPoint
    after: TrendPoint
    change: float
    ci_low: float
    ci_high: float
    p_value: float

    def plain(self) -> str:
        name = self.kind.upper()
        where = "clearly" if not self.ci_low <= 0 <= self.ci_high else "not clearly"
        return (
            f"{name} moved from {self.before.value:.1f} to {self.after.value:.1f} ({self.change:+.1f}, 95% interval "
            f"{self.ci_low:+.1f} to {self.ci_high:+.1f}): {where} a change ({self.before.responses:,} and "
            f"{self.after.responses:,} answers)."
        )


def remeasure(
    source: AnalyticalSource,
    kind: str,
    before: tuple[date, date],
    after: tuple[date, date],
    *,
    survey: str | None = None,
    dimension: str = OVERALL,
    tz: str = "UTC",
) -> RemeasureResult:
    """The change in ``kind``'s score between the periods ``before`` and ``after`` (each ``[start,
    end)``) through the experiment engine (see the module)."""
    _check_kind(kind)
    scale = 100.0 if kind in ("nps", "csat") else 1.0
    rows = _answers(source, kind, survey, dimension)
    value = ibis.ifelse(rows.score >= 4, 1, 0).cast("float64") if kind == "csat" else _values(rows, kind)
    points, stats_rows = [], []
    for name, (start, end) in (("before", before), ("after", after)):
        if end <= start:
            raise ValidationError(f"the {name} period must end after it starts ({start} to {end})")
        window = custom_period(start, end, tz)
        part = rows.mutate(_i=period_index(rows.responded_at, window), _v=value * scale)
        part = part.filter(part._i.notnull())
        r = source.execute(
            part.aggregate(
                n=part.count().cast("int64"),
                s=part._v.sum().cast("float64"),
                q=(part._v * part._v).sum().cast("float64"),
                good=count_if(part.score >= 4),
            )
        )[0]
        n = int(r["n"] or 0)
        if n < 2:
            raise ValidationError(f"the {name} period ({start} to {end}) holds {n} answer(s): at least 2 are needed")
        s, q = float(r["s"] or 0.0), float(r["q"] or 0.0)
        raw_s, raw_q = (s / scale, q / scale / scale)
        v, low, high = _interval(kind, n, raw_s, raw_q, int(r["good"] or 0))
        points.append(TrendPoint(start, survey, kind, n, v, low, high))
        stats_rows.append({"metric": kind, "variant": name, "n": n, "sum": s, "sum_squares": q})
    report = analyze_summary(_frame(stats_rows), AnalysisOptions(relative=False), control="before")
    row = report.results.iloc[0]
    return RemeasureResult(
        kind, survey, points[0], points[1], float(row["lift"]), float(row["ci_low"]), float(row["ci_high"]),
        float(row["p_value"]),
    )  # fmt: skip


def _frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(list(rows))
