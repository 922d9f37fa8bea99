"""After-sales outcomes per exposed customer, built in the engine from the contract's ``orders``.

For each exposure (``customer_id``, ``variant``, ``exposed_at``) and a window of ``window_days``
after it, counting orders that were neither cancelled nor returned:

* ``repeat_purchase`` (boolean): at least one order in ``(exposed_at, exposed_at + window]``:
  *repeat purchase within N days*, a proportion metric;
* ``orders``: number of such orders; ``revenue``: their revenue (*revenue per customer*; zero for
  customers who bought nothing, who stay in the denominator);
* ``pre_revenue`` (with ``pre_days``): revenue in ``[exposed_at - pre_days, exposed_at)``, the CUPED
  covariate of ``revenue`` (``summary_statistics`` pairs ``pre_<m>`` with ``<m>``).

Churn is ``1 - repeat_purchase`` over the same window (flag the metric ``lower_is_better``); NPS,
CLV or any other per-customer score joins onto the exposures the same way and is summarised by
:func:`.summaries.summary_statistics` unchanged.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from aftersales.core.errors import ValidationError

__all__ = ["order_outcomes"]


def order_outcomes(
    exposures: ir.Table,
    orders: ir.Table,
    *,
    window_days: int,
    pre_days: int | None = None,
) -> ir.Table:
    """One row per exposure: customer_id, variant, repeat_purchase, orders, revenue[, pre_revenue]."""
    if window_days <= 0 or (pre_days is not None and pre_days <= 0):
        raise ValidationError("window_days and pre_days must be positive")
    e = exposures.select("customer_id", "variant", "exposed_at")
    o = orders.filter(
        (orders.status != "cancelled") & orders.cancelled_at.isnull() & orders.returned_at.isnull()
    ).select(o_customer="customer_id", ordered_at="ordered_at", o_revenue=orders.revenue.cast("float64"))
    start = e.exposed_at - ibis.interval(days=pre_days) if pre_days else e.exposed_at
    joined = e.left_join(
        o,
        [
            e.customer_id == o.o_customer,
            o.ordered_at >= start,
            o.ordered_at <= e.exposed_at + ibis.interval(days=window_days),
        ],
    )
    after = joined.ordered_at > joined.exposed_at
    before = joined.ordered_at < joined.exposed_at
    aggs = {
        "orders": ibis.ifelse(after, 1, 0).sum().cast("int64"),
        "revenue": ibis.ifelse(after, joined.o_revenue, 0.0).sum().cast("float64"),
    }
    if pre_days:
        aggs["pre_revenue"] = ibis.ifelse(before, joined.o_revenue, 0.0).sum().cast("float64")
    per = joined.group_by(["customer_id", "variant", "exposed_at"]).aggregate(**aggs)
    cols = {
        "customer_id": per.customer_id,
        "variant": per.variant,
        "repeat_purchase": per.orders.fill_null(0) > 0,
        "orders": per.orders.fill_null(0),
        "revenue": per.revenue.fill_null(0.0),
    }
    if pre_days:
        cols["pre_revenue"] = per.pre_revenue.fill_null(0.0)
    return per.select(**cols)
