"""Survey scores: NPS (with a confidence interval), CSAT and CES, per period and segment.

* **NPS** on 0–10 answers: promoters score 9–10, detractors 0–6;
  NPS = (promoters − detractors) / responses × 100, from −100 to 100. Its 95 % interval is the
  Wald interval of the mean of the per-answer score (+1, 0, −1):
  se = 100 · √((p + d − (p − d)²) / n), with p, d the promoter and detractor shares.
* **CSAT** on 1–5 answers: share of 4s and 5s × 100.
* **CES** on 1–7 answers: mean score.

Only the rows of the given ``dimension`` count ('overall' by default; ``None`` for all, which
then usually goes with ``by="dimension"``); break down per survey with ``by="survey_id"``.

>>> nps_formula(promoters=60, passives=20, detractors=20)
(40.0, 24.3, 55.7)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import ibis
import ibis.expr.types as ir

from aftersales.core.metrics.base import count_if, ratio, same_segment, segmented, spine
from aftersales.core.metrics.periods import Periods, period_index

__all__ = ["Z95", "customer_effort_score", "customer_satisfaction", "net_promoter_score", "nps_formula"]

Z95 = 1.959963984540054


def nps_formula(*, promoters: int, passives: int, detractors: int) -> tuple[float, float, float] | None:
    """``(nps, low, high)`` with the 95 % Wald interval (rounded to 0.1 here for display); ``None`` without answers."""
    n = promoters + passives + detractors
    if n == 0:
        return None
    p, d = promoters / n, detractors / n
    se = 100 * math.sqrt((p + d - (p - d) ** 2) / n)
    nps = 100 * (p - d)
    return round(nps, 1), round(nps - Z95 * se, 1), round(nps + Z95 * se, 1)


def _responses(
    responses: ir.Table, periods: Periods, kind: str, dimension: str | None, customers: ir.Table | None, by: str | None
) -> tuple[ir.Table, ir.Table]:
    rows = responses.filter(responses.kind == kind)
    if dimension is not None:
        rows = rows.filter(rows.dimension == dimension)
    rows = segmented(rows, customers, by)
    rows = rows.mutate(period_index=period_index(rows.responded_at, periods)).filter(lambda t: t.period_index.notnull())
    return rows, spine(periods, rows)


def _attach(
    grid: ir.Table,
    agg: ir.Table,
    metric: str,
    value: Callable[[ir.Table], dict[str, ir.Value]],
    ints: tuple[str, ...],
    floats: tuple[str, ...] = (),
    *,
    by: str | None,
) -> ir.Table:
    j = grid.left_join(agg, [grid.period_index == agg.period_index, *same_segment(grid.segment, agg.segment, by)])
    cols = {c: j[c].fill_null(0) for c in ints} | {c: j[c].fill_null(0.0) for c in floats}
    j = j.select(grid.period, grid.segment, **cols)
    kept = {c: j[c] for c in cols}
    return j.select(metric=ibis.literal(metric), period=j.period, segment=j.segment, **value(j), **kept)


def net_promoter_score(
    responses: ir.Table,
    periods: Periods,
    *,
    dimension: str | None = "overall",
    customers: ir.Table | None = None,
    by: str | None = None,
) -> ir.Table:
    """NPS per period and segment, with ``ci_low``/``ci_high`` (95 %) and the counts behind it."""
    rows, grid = _responses(responses, periods, "nps", dimension, customers, by)
    agg = rows.group_by(["period_index", "segment"]).aggregate(
        responses=rows.count().cast("int64"),
        promoters=count_if(rows.score >= 9),
        detractors=count_if(rows.score <= 6),
    )

    def value(j: ir.Table) -> dict[str, ir.Value]:
        n = j.responses.cast("float64")
        p = ratio(j.promoters, n)
        d = ratio(j.detractors, n)
        nps = (p - d) * 100.0
        se = ((p + d - (p - d) * (p - d)) / n).sqrt() * 100.0
        return {"value": nps, "ci_low": nps - Z95 * se, "ci_high": nps + Z95 * se}

    return _attach(grid, agg, "nps", value, ("responses", "promoters", "detractors"), by=by)


def customer_satisfaction(
    responses: ir.Table,
    periods: Periods,
    *,
    dimension: str | None = "overall",
    customers: ir.Table | None = None,
    by: str | None = None,
) -> ir.Table:
    """CSAT: answers of 4 or 5 / answers × 100."""
    rows, grid = _responses(responses, periods, "csat", dimension, customers, by)
    agg = rows.group_by(["period_index", "segment"]).aggregate(
        responses=rows.count().cast("int64"), satisfied=count_if(rows.score >= 4)
    )
    return _attach(
        grid,
        agg,
        "csat",
        lambda j: {"value": ratio(j.satisfied, j.responses, 100.0)},
        ("responses", "satisfied"),
        by=by,
    )


def customer_effort_score(
    responses: ir.Table,
    periods: Periods,
    *,
    dimension: str | None = "overall",
    customers: ir.Table | None = None,
    by: str | None = None,
) -> ir.Table:
    """CES: mean answer on the 1–7 scale."""
    rows, grid = _responses(responses, periods, "ces", dimension, customers, by)
    agg = rows.group_by(["period_index", "segment"]).aggregate(
        responses=rows.count().cast("int64"), score_sum=rows.score.cast("float64").sum()
    )
    return _attach(
        grid,
        agg,
        "ces",
        lambda j: {"value": ratio(j.score_sum, j.responses)},
        ("responses",),
        ("score_sum",),
        by=by,
    )
