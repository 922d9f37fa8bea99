"""Customer retention and churn rates (the founding texts' formula).

For a period ``[s, e)``::

    retention rate = (E − N) / S × 100        churn rate = lost / S × 100

S = customers at ``s``, E = customers at ``e``, N = customers whose first purchase falls in
``[s, e)``, lost = customers at ``s`` who are no longer customers at ``e``. Someone *is a customer
at t* when they have a counted order in ``[t − W, t)`` (W = 365 days by default) or, with
``basis="subscriptions"``, when a subscription started before ``t`` has not been cancelled by
``t`` (contractual churn). The window ends just before ``t`` so that an order at exactly ``s`` is
counted once, as a new customer of the period, and never also as one of the S already there.
S = 0 gives ``value`` NULL: undefined, not a division error. Retention plus churn is 100 % only
when nobody comes back: customers who lapsed and return (``reactivated``) count in E − N.

Worked example (the founding text): 200 customers at the start, 40 new, 220 at the end:
(220 − 40) / 200 × 100 = 90 %.

>>> retention_formula(start=200, end=220, new=40)
90.0
>>> retention_formula(start=0, end=5, new=5) is None
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta

import ibis
import ibis.expr.types as ir

from aftersales.core.metrics.base import count_if, counted_orders, ratio, segmented, to_long
from aftersales.core.metrics.periods import Periods, timestamp_literal

__all__ = ["active_customers", "rates_from_parts", "retention_formula", "retention_parts"]


def retention_formula(*, start: int, end: int, new: int) -> float | None:
    """``(E − N) / S × 100``; ``None`` when S = 0."""
    return None if start == 0 else (end - new) * 100.0 / start


def active_customers(
    periods: Periods,
    *,
    orders: ir.Table | None = None,
    subscriptions: ir.Table | None = None,
    customers: ir.Table | None = None,
    by: str | None = None,
    window_days: int = 365,
    include_returns: bool = False,
    extra: Callable[[ir.Table], Mapping[str, ir.Scalar]] | None = None,
) -> ir.Table:
    """Per (customer, segment): ``a0 … an`` (1 when a customer at boundary i) and ``first`` (first purchase).

    Give ``orders`` (non-contractual) or ``subscriptions`` (contractual), not both. ``extra(rows)``
    adds aggregates over the same rows (the counted orders before the last boundary) in the same
    pass.
    """
    b = [timestamp_literal(x) for x in periods.bounds]
    if subscriptions is not None:
        rows = segmented(subscriptions, customers, by)
        start, stop = rows.started_at, rows.cancelled_at
        rows = rows.filter(start < b[-1])
        flags = {
            f"a{i}": ibis.ifelse((start < bi) & (stop.isnull() | (stop >= bi)), 1, 0).max() for i, bi in enumerate(b)
        }
        return rows.group_by(["customer_id", "segment"]).aggregate(first=start.min(), **flags)
    if orders is None:
        raise ValueError("active_customers needs orders or subscriptions")
    rows = segmented(counted_orders(orders, include_returns=include_returns), customers, by)
    rows = rows.filter(rows.ordered_at < b[-1])
    ts = rows.ordered_at
    w = [timestamp_literal(x - timedelta(days=window_days)) for x in periods.bounds]
    flags = {f"a{i}": ibis.ifelse((ts >= w[i]) & (ts < bi), 1, 0).max() for i, bi in enumerate(b)}
    more = dict(extra(rows)) if extra is not None else {}
    return rows.group_by(["customer_id", "segment"]).aggregate(first=ts.min(), **flags, **more)


def retention_parts(active: ir.Table, periods: Periods) -> ir.Table:
    """Per segment, the counts behind both rates: ``S{i}`` and, per period, ``N{i}``, ``R{i}`` (retained)."""
    b = [timestamp_literal(x) for x in periods.bounds]
    a = [active[f"a{i}"] for i in range(len(b))]
    aggs = {f"S{i}": count_if(ai == 1) for i, ai in enumerate(a)}
    for i in range(len(periods)):
        aggs[f"N{i}"] = count_if((active.first >= b[i]) & (active.first < b[i + 1]))
        aggs[f"R{i}"] = count_if((a[i] == 1) & (a[i + 1] == 1))
        aggs[f"X{i}"] = count_if((a[i] == 0) & (a[i + 1] == 1) & (active.first < b[i]))
    return active.group_by("segment").aggregate(**aggs)


def rates_from_parts(parts: ir.Table, periods: Periods, metric: str) -> ir.Table:
    """``retention_rate`` or ``churn_rate`` rows from :func:`retention_parts` (one table serves both)."""

    def columns(i: int) -> dict[str, ir.Value]:
        S, E, N, R = parts[f"S{i}"], parts[f"S{i + 1}"], parts[f"N{i}"], parts[f"R{i}"]
        lost = S - R
        value = ratio(E - N, S, 100.0) if metric == "retention_rate" else ratio(lost, S, 100.0)
        return {"value": value, "S": S, "E": E, "N": N, "retained": R, "lost": lost, "reactivated": parts[f"X{i}"]}

    return to_long(parts, periods, columns, metric)
