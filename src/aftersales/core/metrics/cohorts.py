"""The cohort retention matrix: acquisition period × periods since acquisition.

A customer's cohort is the period (in the reporting time zone) of their first counted order;
only cohorts starting inside ``periods`` are shown, and each cohort is followed to the last
period. For cohort ``c`` and age ``k`` (0 = the acquisition period itself)::

    active share          = customers of c who ordered in period c + k / customers of c × 100
    revenue per customer  = revenue from c in period c + k / customers of c

Every (cohort, age) cell inside the periods appears, with 0 where nobody ordered.

>>> [(c, a) for c, a in cohort_cells(3)]
[(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (2, 0)]
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from aftersales.core.metrics.base import counted_orders, ratio, same_segment, segmented
from aftersales.core.metrics.periods import Periods, period_index, timestamp_literal

__all__ = ["cohort_cells", "cohort_matrix"]


def cohort_cells(n: int) -> list[tuple[int, int]]:
    """The (cohort index, age) cells of an ``n``-period triangle."""
    return [(c, a) for c in range(n) for a in range(n - c)]


def cohort_matrix(
    orders: ir.Table,
    periods: Periods,
    *,
    customers: ir.Table | None = None,
    by: str | None = None,
    include_returns: bool = False,
) -> ir.Table:
    """Rows ``cohort, segment, age, cohort_customers, active, value`` (active share %), ``revenue_per_customer``."""
    rows = segmented(counted_orders(orders, include_returns=include_returns), customers, by)
    rows = rows.filter(rows.ordered_at < timestamp_literal(periods.end))
    first = rows.group_by(["customer_id", "segment"]).aggregate(first=rows.ordered_at.min())
    first = first.mutate(cohort_index=period_index(first.first, periods)).filter(lambda t: t.cohort_index.notnull())
    rows = rows.mutate(period_index=period_index(rows.ordered_at, periods)).filter(lambda t: t.period_index.notnull())
    per = rows.group_by(["customer_id", "segment", "period_index"]).aggregate(
        revenue=rows.revenue.cast("float64").sum()
    )
    j = per.inner_join(first, [per.customer_id == first.customer_id, *same_segment(per.segment, first.segment, by)])
    cells = j.group_by([j.cohort_index, j.segment, (j.period_index - j.cohort_index).name("age")]).aggregate(
        active=j.count().cast("int64"), revenue=j.revenue.sum().cast("float64")
    )
    sizes = first.group_by(["cohort_index", "segment"]).aggregate(cohort_customers=first.count().cast("int64"))
    pairs = cohort_cells(len(periods))
    grid = ibis.memtable(
        {
            "cohort_index": [c for c, _ in pairs],
            "age": [a for _, a in pairs],
            "cohort": [periods.labels[c] for c, _ in pairs],
        },
        schema={"cohort_index": "int64", "age": "int64", "cohort": "date"},
    )
    grid = grid.inner_join(sizes, grid.cohort_index == sizes.cohort_index)
    out = grid.left_join(
        cells,
        [
            grid.cohort_index == cells.cohort_index,
            grid.age == cells.age,
            *same_segment(grid.segment, cells.segment, by),
        ],
    )
    active = out.active.fill_null(0)
    revenue = out.revenue.fill_null(0.0)
    return out.select(
        metric=ibis.literal("cohort_retention"),
        period=out.cohort,
        segment=out.segment,
        age=out.age,
        value=ratio(active, out.cohort_customers, 100.0),
        cohort_customers=out.cohort_customers,
        active=active,
        revenue=revenue,
        revenue_per_customer=ratio(revenue, out.cohort_customers),
    )
