"""Purchase-behaviour metrics per period: repeat purchase ratio, returning customers, frequency, AOV, growth.

All read the counted orders (returned and cancelled orders are left out unless
``include_returns=True``) and cut them into the periods in the reporting time zone. Periods
without orders get a row with ``value`` NULL.

==================================  =====================================================================
metric                              formula (per period, per segment)
==================================  =====================================================================
``repeat_purchase_ratio``           customers with ≥ 2 orders in the period / customers with ≥ 1 × 100
``returning_customer_rate``         customers ordering in the period who had ordered before it /
                                    customers ordering in the period × 100
``purchase_frequency``              orders / customers ordering in the period
``average_order_value``             revenue / orders
``revenue_growth_existing``         (revenue in the period from customers acquired before it −
                                    all revenue of the previous period) / previous revenue × 100
==================================  =====================================================================

Everyone who bought in the previous period was acquired before the current one, so the previous
period's revenue is exactly what the same "existing" set of customers spent then.

>>> average_order_value_formula(revenue=1500.0, orders=30)
50.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Unpack

import ibis
import ibis.expr.types as ir

from aftersales.core.metrics.base import OrderOptions, count_if, counted_orders, ratio, same_segment, segmented, spine
from aftersales.core.metrics.periods import Periods, extended_back, period_index, timestamp_literal

__all__ = [
    "FROM_ACTIVITY",
    "average_order_value",
    "average_order_value_formula",
    "period_activity",
    "purchase_frequency",
    "repeat_purchase_ratio",
    "returning_customer_rate",
    "revenue_growth_existing",
    "shared_activity",
]


def average_order_value_formula(*, revenue: float, orders: int) -> float | None:
    """Average order value = revenue / orders (``None`` without orders)."""
    return None if orders == 0 else revenue / orders


def period_activity(
    orders: ir.Table,
    periods: Periods,
    *,
    customers: ir.Table | None = None,
    by: str | None = None,
    include_returns: bool = False,
) -> ir.Table:
    """Per (period, segment): customers, repeaters, returning customers, orders, revenue, existing revenue.

    Every period of ``periods`` and every segment appears (zeros where nobody ordered).
    """
    rows = segmented(counted_orders(orders, include_returns=include_returns), customers, by)
    rows = rows.filter(rows.ordered_at < timestamp_literal(periods.end))
    first = rows.group_by(["customer_id", "segment"]).aggregate(first=rows.ordered_at.min())
    start = timestamp_literal(periods.start)
    first = first.mutate(first_index=ibis.ifelse(first.first < start, -1, period_index(first.first, periods)))
    rows = rows.mutate(period_index=period_index(rows.ordered_at, periods)).filter(lambda t: t.period_index.notnull())
    per_customer = rows.group_by(["customer_id", "segment", "period_index"]).aggregate(
        n=rows.count(), revenue=rows.revenue.cast("float64").sum()
    )
    j = per_customer.inner_join(
        first, [per_customer.customer_id == first.customer_id, *same_segment(per_customer.segment, first.segment, by)]
    )
    existing = j.first_index < j.period_index
    agg = j.group_by(["period_index", "segment"]).aggregate(
        customers=j.count().cast("int64"),
        repeaters=count_if(j.n >= 2),
        returning=count_if(existing),
        orders=j.n.sum().cast("int64"),
        revenue=j.revenue.sum().cast("float64"),
        revenue_existing=ibis.ifelse(existing, j.revenue, 0.0).sum().cast("float64"),
    )
    grid = spine(periods, first)
    keys = [grid.period_index == agg.period_index, *same_segment(grid.segment, agg.segment, by)]
    out = grid.left_join(agg, keys).select(
        grid.period_index,
        grid.period,
        grid.segment,
        *[agg[c].fill_null(0).name(c) for c in ("customers", "repeaters", "returning", "orders")],
        *[agg[c].fill_null(0.0).name(c) for c in ("revenue", "revenue_existing")],
    )
    return out


def _select(act: ir.Table, metric: str, value: ir.Value, **parts: ir.Value) -> ir.Table:
    return act.select(metric=ibis.literal(metric), period=act.period, segment=act.segment, value=value, **parts)


def shared_activity(orders: ir.Table, periods: Periods, **kw: Unpack[OrderOptions]) -> ir.Table:
    """:func:`period_activity` over ``periods`` with the period before prepended (index 0).

    One table serves all five metrics: growth needs the previous period, and the other four
    read periods 1 … n, whose counts equal those of :func:`period_activity` over ``periods``
    (a customer first seen in the prepended period was acquired before every period 1 … n,
    exactly as ``first_index = -1`` says there).
    """
    return period_activity(orders, extended_back(periods), **kw)


def _current(act: ir.Table) -> ir.Table:
    return act.filter(act.period_index >= 1)


def _repeat(act: ir.Table) -> ir.Table:
    a = _current(act)
    return _select(
        a, "repeat_purchase_ratio", ratio(a.repeaters, a.customers, 100.0), repeaters=a.repeaters, customers=a.customers
    )


def _returning(act: ir.Table) -> ir.Table:
    a = _current(act)
    return _select(
        a,
        "returning_customer_rate",
        ratio(a.returning, a.customers, 100.0),
        returning=a.returning,
        customers=a.customers,
    )


def _frequency(act: ir.Table) -> ir.Table:
    a = _current(act)
    return _select(a, "purchase_frequency", ratio(a.orders, a.customers), orders=a.orders, customers=a.customers)


def _aov(act: ir.Table) -> ir.Table:
    a = _current(act)
    return _select(a, "average_order_value", ratio(a.revenue, a.orders), revenue=a.revenue, orders=a.orders)


def _growth(act: ir.Table) -> ir.Table:
    prev = act.select(prev_index=act.period_index + 1, prev_segment=act.segment, previous_revenue=act.revenue)
    cur = _current(act)
    j = cur.left_join(prev, [cur.period_index == prev.prev_index, cur.segment.identical_to(prev.prev_segment)])
    prev_rev = j.previous_revenue.fill_null(0.0)
    return _select(
        j,
        "revenue_growth_existing",
        ratio(j.revenue_existing - prev_rev, prev_rev, 100.0),
        revenue_existing=j.revenue_existing,
        previous_revenue=prev_rev,
    )


FROM_ACTIVITY: dict[str, Callable[[ir.Table], ir.Table]] = {
    "repeat_purchase_ratio": _repeat,
    "returning_customer_rate": _returning,
    "purchase_frequency": _frequency,
    "average_order_value": _aov,
    "revenue_growth_existing": _growth,
}
"""Each metric of this module from :func:`shared_activity`'s table (so a scorecard computes it once)."""


def repeat_purchase_ratio(orders: ir.Table, periods: Periods, **kw: Unpack[OrderOptions]) -> ir.Table:
    """Customers with at least two orders in the period / customers with at least one, × 100."""
    return _repeat(shared_activity(orders, periods, **kw))


def returning_customer_rate(orders: ir.Table, periods: Periods, **kw: Unpack[OrderOptions]) -> ir.Table:
    """Customers ordering in the period who had ordered before it / customers ordering in it, × 100."""
    return _returning(shared_activity(orders, periods, **kw))


def purchase_frequency(orders: ir.Table, periods: Periods, **kw: Unpack[OrderOptions]) -> ir.Table:
    """Orders per ordering customer in the period."""
    return _frequency(shared_activity(orders, periods, **kw))


def average_order_value(orders: ir.Table, periods: Periods, **kw: Unpack[OrderOptions]) -> ir.Table:
    """Revenue / orders in the period."""
    return _aov(shared_activity(orders, periods, **kw))


def revenue_growth_existing(orders: ir.Table, periods: Periods, **kw: Unpack[OrderOptions]) -> ir.Table:
    """Growth of revenue from customers acquired before the period, against the previous period, × 100."""
    return _growth(shared_activity(orders, periods, **kw))
