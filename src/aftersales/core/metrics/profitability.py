"""Customer profitability score: what each customer earned the business in a window, after costs.

Per customer who placed a non-cancelled order in ``[start, end)`` (reporting time zone)::

    margin    = revenue − cost of goods − returns
    profit    = margin − direct costs − allocated period costs

* revenue: all non-cancelled orders (returned ones included); returns: revenue of the returned
  orders (refunded); cost of goods: of the orders kept (returned goods go back to stock). So
  margin = kept revenue − kept cost of goods.
* direct costs: ``costs`` rows with this ``customer_id`` (and no period, or a period starting in
  the window);
* allocated costs — the documented rule: a period cost (no ``customer_id``) whose period starts in
  the window is split **equally** among its eligible customers: for an ``acquisition`` cost, the
  customers whose first counted order falls in the cost's period; for ``retention`` and
  ``service`` costs, the customers with a counted order in it. A cost with a ``channel`` is
  limited to customers of that ``acquisition_channel``. A cost with no eligible customer stays
  unallocated: no customer carries it.

``rank`` 1 is the most profitable customer (ties broken by ``customer_id``).

>>> profit_formula(revenue=500.0, cost_of_goods=200.0, returns=50.0, costs=120.0)
130.0
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from aftersales.core.metrics.base import count_if, counted_orders, ratio
from aftersales.core.metrics.periods import custom_period, local_day_number, timestamp_literal

__all__ = ["customer_profitability", "profit_formula", "profitability_summary"]


def profit_formula(*, revenue: float, cost_of_goods: float, returns: float, costs: float) -> float:
    """revenue − cost of goods − returns − attributed costs."""
    return revenue - cost_of_goods - returns - costs


def _day(d: ir.DateValue) -> ir.IntegerValue:
    return (d.cast("timestamp").epoch_seconds().cast("float64") / 86400.0).floor().cast("int64")


def _allocations(
    orders: ir.Table, costs: ir.Table, customers: ir.Table | None, start: date, end: date, tz: str
) -> ir.Table:
    """One row per (cost, eligible customer) with the customer's ``share`` of the cost."""
    p = custom_period(start, end, tz)
    s0, s1 = (start - date(1970, 1, 1)).days, (end - date(1970, 1, 1)).days
    period_costs = costs.filter(costs.customer_id.isnull() & costs.period_start.notnull() & costs.period_end.notnull())
    pc = period_costs.select(
        "cost_id",
        "kind",
        "channel",
        amount=period_costs.amount.cast("float64"),
        ds=_day(period_costs.period_start),
        de=_day(period_costs.period_end),
    )
    pc = pc.filter((pc.ds >= s0) & (pc.ds < s1))
    o = counted_orders(orders)
    days = o.select(o.customer_id, day=local_day_number(o.ordered_at, tz, p.start, p.end))
    first = days.group_by("customer_id").aggregate(day=days.day.min())
    active = days.distinct()
    if customers is not None:
        ch = customers.select(ch_customer_id=customers.customer_id, acq=customers.acquisition_channel)
        first = first.left_join(ch, first.customer_id == ch.ch_customer_id).drop("ch_customer_id")
        active = active.left_join(ch, active.customer_id == ch.ch_customer_id).drop("ch_customer_id")
    else:
        first, active = first.mutate(acq=ibis.null("string")), active.mutate(acq=ibis.null("string"))

    def eligible(cands: ir.Table, kinds: tuple[str, ...]) -> ir.Table:
        c = pc.filter(pc.kind.isin(kinds))
        j = c.inner_join(
            cands,
            [cands.day >= c.ds, cands.day < c.de, c.channel.isnull() | (c.channel == cands.acq)],
        )
        return j.select(j.cost_id, j.customer_id, j.amount).distinct()

    pairs = ibis.union(eligible(first, ("acquisition",)), eligible(active, ("retention", "service")))
    n = pairs.group_by("cost_id").aggregate(n=pairs.count().cast("int64"))
    pairs = pairs.inner_join(n, "cost_id")
    return pairs.select(pairs.cost_id, pairs.customer_id, share=pairs.amount / pairs.n.cast("float64"))


def customer_profitability(
    orders: ir.Table,
    *,
    start: date,
    end: date,
    tz: str = "UTC",
    costs: ir.Table | None = None,
    customers: ir.Table | None = None,
) -> ir.Table:
    """Per customer: revenue, cost_of_goods, returns, margin, direct_costs, allocated_costs, profit, rank."""
    p = custom_period(start, end, tz)
    o = orders.filter(
        (orders.ordered_at >= timestamp_literal(p.start))
        & (orders.ordered_at < timestamp_literal(p.end))
        & (orders.status.isnull() | (orders.status != "cancelled"))
        & orders.cancelled_at.isnull()
    )
    returned = (o.status == "returned").fill_null(False) | o.returned_at.notnull()
    rev = o.revenue.cast("float64")
    per = o.group_by("customer_id").aggregate(
        revenue=rev.sum().cast("float64"),
        returns=ibis.ifelse(returned, rev, 0.0).sum().cast("float64"),
        cost_of_goods=ibis.ifelse(returned, 0.0, o.cost_of_goods.cast("float64").fill_null(0.0)).sum().cast("float64"),
    )
    direct = allocated = None
    if costs is not None:
        d = costs.filter(costs.customer_id.notnull())
        s0, s1 = (start - date(1970, 1, 1)).days, (end - date(1970, 1, 1)).days
        d = d.filter(d.period_start.isnull() | ((_day(d.period_start) >= s0) & (_day(d.period_start) < s1)))
        direct = d.group_by("customer_id").aggregate(direct_costs=d.amount.cast("float64").sum().cast("float64"))
        al = _allocations(orders, costs, customers, start, end, tz)
        allocated = al.group_by("customer_id").aggregate(allocated_costs=al.share.sum().cast("float64"))
    out = per
    for extra, col in ((direct, "direct_costs"), (allocated, "allocated_costs")):
        if extra is None:
            out = out.mutate(**{col: ibis.literal(0.0)})
        else:
            e = extra.rename(_cid="customer_id")
            out = out.left_join(e, out.customer_id == e._cid).drop("_cid")
            out = out.mutate(**{col: out[col].fill_null(0.0)})
    margin = out.revenue - out.cost_of_goods - out.returns
    out = out.mutate(margin=margin, profit=margin - out.direct_costs - out.allocated_costs)
    rank = ibis.row_number().over(order_by=[ibis.desc(out.profit), out.customer_id]) + 1
    return out.mutate(rank=rank.cast("int64"))


def profitability_summary(profit: ir.Table) -> ir.Table:
    """Distribution of ``profit`` over customers: count, total, mean, share profitable, exact quartiles."""
    p = profit.profit
    return profit.aggregate(
        customers=profit.count().cast("int64"),
        total_profit=p.sum().cast("float64"),
        mean_profit=p.mean(),
        # a share of count_if, not AVG(CASE ... 1.0 ...): PostgreSQL averages those literals as NUMERIC
        # and Ibis drops a float64 cast it believes redundant (DESIGN.md engine facts).
        profitable_share=ratio(count_if(p > 0), profit.count(), 100.0),
        min_profit=p.min(),
        p25=p.quantile(0.25),
        median=p.quantile(0.5),
        p75=p.quantile(0.75),
        max_profit=p.max(),
    )
