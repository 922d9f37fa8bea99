"""Per-customer order facts as of ``now``: first/last order, counts, revenue, the year's revenue, categories.

Orders count as the metrics count them (``core.metrics.base.counted_orders``: returned and cancelled
orders are left out) and only those placed strictly before ``now`` (the refresh time) are read, so
a profile built "as of" a past day ignores everything after it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import ibis
import ibis.expr.types as ir

from aftersales.core.metrics.base import count_if, counted_orders
from aftersales.core.metrics.periods import custom_period, timestamp_literal

__all__ = [
    "SECONDS_PER_DAY",
    "as_of_day",
    "categories_bought",
    "cents_sum",
    "epoch_seconds",
    "history",
    "order_summary",
    "orders_before",
    "utc_day_number",
    "year_revenue",
]

SECONDS_PER_DAY = 86_400.0


def epoch_seconds(ts: ir.TimestampValue) -> ir.FloatingValue:
    """Seconds since 1970-01-01 UTC as float64 (cast before any arithmetic: DESIGN.md engine facts)."""
    return ts.epoch_seconds().cast("float64")


def cents_sum(money: ir.NumericValue) -> ir.FloatingValue:
    """The exact sum of money amounts (at most two decimals, as the contract stores them) as float64.

    Summed as DECIMAL(18, 2) and converted once: a float64 sum depends on the order the engine adds
    in, so two customers with the same revenue could differ in the last bit and split a tie in the
    RFM monetary rank (seen on 100k generated customers against pandas). The exact sum rounds to the
    same double on every engine.
    """
    return money.cast("decimal(18, 2)").sum().cast("float64")


def utc_day_number(seconds: ir.FloatingValue) -> ir.IntegerValue:
    """The UTC day (days since 1970-01-01) of an epoch-seconds value."""
    return (seconds / SECONDS_PER_DAY).floor().cast("int64")


def as_of_day(now: datetime, tz: str) -> date:
    """The local calendar day (in ``tz``) that contains ``now``: the historical-CLV year ends at its start."""
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(tz)).date()


def orders_before(orders: ir.Table, now: datetime) -> ir.Table:
    """The counted orders placed strictly before ``now``."""
    o = counted_orders(orders)
    return o.filter(o.ordered_at < timestamp_literal(now))


def order_summary(orders: ir.Table, now: datetime) -> ir.Table:
    """``customer_id, first_order_at, last_order_at, orders, revenue, repeat`` for customers with a
    counted order before ``now``; ``repeat`` is whether they bought on two different UTC days (BG/NBD
    frequency >= 1 on daily periods)."""
    o = orders_before(orders, now)
    agg = o.group_by("customer_id").aggregate(
        first_order_at=o.ordered_at.min(),
        last_order_at=o.ordered_at.max(),
        orders=o.count().cast("int64"),
        revenue=cents_sum(o.revenue),
    )
    first_day = utc_day_number(epoch_seconds(agg.first_order_at))
    last_day = utc_day_number(epoch_seconds(agg.last_order_at))
    return agg.mutate(repeat=last_day > first_day)


def history(summary: ir.Table, now: datetime) -> ir.Table:
    """One row: ``customers`` with orders, ``repeat_customers``, ``span_days`` (whole days from the
    first counted order to ``now``): what decides whether the predictive columns can be computed."""
    now_s = now.astimezone(UTC).timestamp()
    first = epoch_seconds(summary.first_order_at).min()
    return summary.aggregate(
        customers=summary.count().cast("int64"),
        repeat_customers=count_if(summary.repeat),
        span_days=((ibis.literal(now_s, type="float64") - first) / SECONDS_PER_DAY).floor().cast("int64"),
    )


def year_revenue(orders: ir.Table, now: datetime, tz: str) -> ir.Table:
    """``customer_id, year_orders, year_revenue``: counted orders in the 365 local days before the
    as-of day (``[day − 365, day)`` in ``tz``, the year of ``metrics.clv_historical``)."""
    day = as_of_day(now, tz)
    p = custom_period(day - timedelta(days=365), day, tz)
    start, end = timestamp_literal(p.start), timestamp_literal(p.end)
    o = counted_orders(orders)
    o = o.filter((o.ordered_at >= start) & (o.ordered_at < end))
    return o.group_by("customer_id").aggregate(year_orders=o.count().cast("int64"), year_revenue=cents_sum(o.revenue))


def categories_bought(orders: ir.Table, order_lines: ir.Table, products: ir.Table, now: datetime) -> ir.Table:
    """``customer_id, categories_bought``: the distinct product categories on the lines of the
    customer's counted orders before ``now`` (an unordered array: the service sorts it, since Spark
    cannot order an aggregate)."""
    o = orders_before(orders, now).select("order_id", "customer_id")
    lines = order_lines.select(_order_id="order_id", _product_id="product_id")
    prods = products.filter(products.category.notnull()).select(_pid="product_id", category="category")
    j = o.inner_join(lines, o.order_id == lines._order_id)
    j = j.inner_join(prods, j._product_id == prods._pid)
    pairs = j.select("customer_id", "category").distinct()
    return pairs.group_by("customer_id").aggregate(categories_bought=pairs.category.collect())
