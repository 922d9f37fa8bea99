"""Drivers of one survey's overall score: the regression of ``core/surveys/drivers.py`` on the store.

The engine pivots the survey's ``survey_responses`` rows to one row per response (the overall score
and one column per dimension), keeps the complete ones and sums their cross-products: one scan and one
row back, whatever the number of responses (a million in about a second on DuckDB, bench/bench_surveys.py).
Python solves the small system. Dimensions are those the survey's answers hold (or the ones asked for).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.types as ir

from aftersales.core.errors import FieldError, ValidationError
from aftersales.core.metrics.periods import custom_period, period_index
from aftersales.core.surveys.drivers import Drivers, cross_product_sums, drivers_from_sums, sums_from_row
from aftersales.core.surveys.model import MAX_DRIVERS, OVERALL
from aftersales.services.ports import AnalyticalSource

__all__ = ["DriversReport", "survey_drivers"]


@dataclass(frozen=True)
class DriversReport:
    """The regression, the survey, and how many responses it left out (a dimension unanswered)."""

    survey: str
    drivers: Drivers
    responses: int
    incomplete: int


def _rows(source: AnalyticalSource, survey: str, start: date | None, end: date | None, tz: str) -> ir.Table:
    t = source.table("survey_responses")
    t = t.filter(t.survey_id == survey)
    if start is not None and end is not None:
        t = t.filter(period_index(t.responded_at, custom_period(start, end, tz)).notnull())
    return t


def survey_drivers(
    source: AnalyticalSource,
    survey: str,
    *,
    dimensions: list[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    tz: str = "UTC",
    level: float = 0.95,
) -> DriversReport:
    """How much each dimension of ``survey`` explains its overall score (see the module)."""
    rows = _rows(source, survey, start, end, tz)
    if dimensions is None:
        found = source.execute(rows.select("dimension").distinct().order_by("dimension"))
        dimensions = [r["dimension"] for r in found if r["dimension"] != OVERALL]
    if not dimensions:
        raise ValidationError(f"survey {survey!r} has no answers with follow-up dimensions to explain its score")
    if any(not d or len(d) > 100 or any(ord(ch) < 32 or ord(ch) == 127 for ch in d) for d in dimensions):
        message = "a dimension is a name of at most 100 characters without control characters"
        raise ValidationError(f"dimensions: {message}", [FieldError(("dimensions",), message)])
    if len(dimensions) > MAX_DRIVERS or OVERALL in dimensions or len(set(dimensions)) != len(dimensions):
        message = f"give up to {MAX_DRIVERS} distinct dimensions other than 'overall'"
        raise ValidationError(f"dimensions: {message}", [FieldError(("dimensions",), message)])
    # Columns get positional names (d0, d1, ..., y): a dimension's name is data, not a safe SQL
    # identifier (any text an API client sends).
    aliases = [f"d{i}" for i in range(len(dimensions))]
    columns = {
        alias: ibis.ifelse(rows.dimension == name, rows.score.cast("float64"), ibis.null("float64")).max()
        for alias, name in zip((*aliases, "y"), (*dimensions, OVERALL), strict=True)
    }
    wide = rows.group_by("response_id").aggregate(**columns)
    sums = source.execute(cross_product_sums(wide, aliases, "y"))[0]
    overall = rows.filter(rows.dimension == OVERALL)  # one row per response: no second pivot to count them
    total = int(source.execute(overall.aggregate(n=overall.count()))[0]["n"] or 0)
    matrix = sums_from_row(sums, len(dimensions))
    return DriversReport(survey, drivers_from_sums(matrix, dimensions, level=level), total, total - matrix.n)
