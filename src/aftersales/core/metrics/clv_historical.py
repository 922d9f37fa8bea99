"""Historical customer lifetime value, the founding texts' way, and CLV tiers.

Over the year before ``as_of`` (``[as_of − 365 days, as_of)`` in the reporting time zone)::

    CLV = average order value × orders per customer per year × average customer lifespan (years)

* average order value = revenue / orders of the customers who ordered in that year;
* orders per customer per year = orders / those customers;
* lifespan = 1 / annual churn rate, with the churn rate of :mod:`.retention` over the same year
  (W = ``window_days``), or the ``lifespan_years`` you give; NULL when nobody churned.

Per customer, CLV = the customer's revenue in that year × the lifespan, so the average over
customers equals the overall CLV. **Tiers**: ``above`` / ``below`` the average CLV (as the founding
text segments), or, with ``quantiles=k``, tiers 1 … k of equal size by ascending CLV (ties broken
by ``customer_id``, so every engine agrees).

The founding text's example: $10 per order × 10 orders a year × 10 years = $1,000.

>>> clv_formula(average_order_value=10.0, orders_per_year=10.0, lifespan_years=10.0)
1000.0
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from aftersales.core.metrics.base import count_if, ratio, same_segment
from aftersales.core.metrics.periods import custom_period, timestamp_literal
from aftersales.core.metrics.retention import active_customers

__all__ = ["clv_formula", "clv_tiers", "historical_clv"]


def clv_formula(*, average_order_value: float, orders_per_year: float, lifespan_years: float) -> float:
    """AOV × orders per customer per year × lifespan in years."""
    return average_order_value * orders_per_year * lifespan_years


def _year(
    orders: ir.Table,
    as_of: date,
    tz: str,
    customers: ir.Table | None,
    by: str | None,
    window_days: int,
    include_returns: bool,
    lifespan_years: float | None,
) -> tuple[ir.Table, ir.Table]:
    """(per customer revenue/orders in the year, per segment AOV/frequency/churn/lifespan)."""
    p = custom_period(as_of - timedelta(days=365), as_of, tz)
    start, end = timestamp_literal(p.start), timestamp_literal(p.end)

    def in_year(rows: ir.Table) -> dict[str, ir.Scalar]:  # the year's orders, in the active-flags pass
        inside = (rows.ordered_at >= start) & (rows.ordered_at < end)
        return {
            "orders": count_if(inside),
            "revenue": ibis.ifelse(inside, rows.revenue.cast("float64"), ibis.null("float64")).sum().cast("float64"),
        }

    act = active_customers(
        p,
        orders=orders,
        customers=customers,
        by=by,
        window_days=window_days,
        include_returns=include_returns,
        extra=in_year,
    )
    per_customer = act.filter(act.orders > 0).select("customer_id", "segment", "orders", "revenue")
    churn = act.group_by("segment").aggregate(S=count_if(act.a0 == 1), lost=count_if((act.a0 == 1) & (act.a1 == 0)))
    totals = per_customer.group_by("segment").aggregate(
        customers=per_customer.count().cast("int64"),
        orders=per_customer.orders.sum().cast("int64"),
        revenue=per_customer.revenue.sum().cast("float64"),
    )
    j = totals.left_join(churn, same_segment(totals.segment, churn.segment, by))
    churn_rate = ratio(j.lost.fill_null(0), j.S.fill_null(0))
    lifespan = (
        ibis.literal(float(lifespan_years), type="float64")
        if lifespan_years is not None
        else ibis.ifelse(churn_rate > 0.0, 1.0 / churn_rate, ibis.null("float64"))
    )
    seg = j.select(
        totals.segment,
        totals.customers,
        totals.orders,
        totals.revenue,
        churn_rate=churn_rate,
        lifespan_years=lifespan,
    )
    return per_customer, seg


def historical_clv(
    orders: ir.Table,
    *,
    as_of: date,
    tz: str = "UTC",
    customers: ir.Table | None = None,
    by: str | None = None,
    window_days: int = 365,
    include_returns: bool = False,
    lifespan_years: float | None = None,
) -> ir.Table:
    """Per segment: ``value`` (CLV) with its parts AOV, orders per customer per year, churn rate, lifespan."""
    _, s = _year(orders, as_of, tz, customers, by, window_days, include_returns, lifespan_years)
    aov = ratio(s.revenue, s.orders)
    freq = ratio(s.orders, s.customers)
    return s.select(
        metric=ibis.literal("historical_clv"),
        period=ibis.literal(as_of - timedelta(days=365), type="date"),
        segment=s.segment,
        value=aov * freq * s.lifespan_years,
        average_order_value=aov,
        orders_per_year=freq,
        churn_rate=s.churn_rate * 100.0,
        lifespan_years=s.lifespan_years,
        customers=s.customers,
        orders=s.orders,
        revenue=s.revenue,
    )


def clv_tiers(
    orders: ir.Table,
    *,
    as_of: date,
    tz: str = "UTC",
    quantiles: int | None = None,
    customers: ir.Table | None = None,
    by: str | None = None,
    window_days: int = 365,
    include_returns: bool = False,
    lifespan_years: float | None = None,
) -> ir.Table:
    """Per customer: ``customer_id, segment, orders, revenue, clv, tier`` (see the module docstring)."""
    pc, s = _year(orders, as_of, tz, customers, by, window_days, include_returns, lifespan_years)
    j = pc.inner_join(s.select("segment", "lifespan_years"), same_segment(pc.segment, s.segment, by))
    j = j.select(pc.customer_id, pc.segment, pc.orders, pc.revenue, clv=pc.revenue * j.lifespan_years)
    if quantiles is None:
        mean = j.clv.mean().over(group_by=j.segment)
        tier = ibis.ifelse(j.clv.isnull(), ibis.null("string"), ibis.ifelse(j.clv >= mean, "above", "below"))
        return j.mutate(tier=tier)
    if quantiles < 2:
        raise ValueError("quantiles must be at least 2")
    w = ibis.window(group_by=j.segment, order_by=[j.revenue, j.customer_id])
    rn = ibis.row_number().over(w).cast("float64")  # 0-based in Ibis
    n = j.count().over(ibis.window(group_by=j.segment)).cast("float64")
    tier = (rn * float(quantiles) / n).floor().cast("int64") + 1
    return j.mutate(tier=tier.cast("string"))
