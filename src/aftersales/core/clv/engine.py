"""Ibis expressions that let any engine do the heavy part of CLV work (building them is pure).

* :func:`clv_summary` — the RFM summary in the model's time unit (days, or weeks as days/7: the
  convention of the published BG/NBD and Pareto/NBD results);
* :func:`distinct_rows` — customers grouped into distinct sufficient statistics with counts, which
  is all a model needs to be fitted;
* :func:`scored` — joins a lookup table of per-tuple scores back onto customers and adds expected
  spend (the Gamma-Gamma closed form is arithmetic, so the engine computes it), CLV and risk tier;
* :func:`repeat_purchase_days` — per customer the days of repeat purchases, for tracking curves.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

import ibis
import ibis.expr.types as ir

from aftersales.core.clv.value import RISK_BOUNDS, RISK_TIERS
from aftersales.core.errors import ValidationError
from aftersales.core.metrics.base import counted_orders
from aftersales.core.metrics.periods import local_day_number
from aftersales.core.metrics.rfm import rfm_summary

__all__ = ["UNIT_DAYS", "clv_summary", "distinct_rows", "repeat_purchase_days", "scored"]

UNIT_DAYS = {"D": 1.0, "W": 7.0}
KEYS = ["frequency", "recency", "T"]


def clv_summary(
    orders: ir.Table,
    *,
    observation_end: date,
    calibration_end: date | None = None,
    time_unit: Literal["D", "W"] = "W",
    tz: str = "UTC",
) -> ir.Table:
    """RFM summary (lifetimes convention, daily grain) with recency, T and duration in ``time_unit``."""
    if time_unit not in UNIT_DAYS:
        raise ValidationError(f"time_unit must be 'D' or 'W', not {time_unit!r}")
    rfm = rfm_summary(orders, observation_end=observation_end, calibration_end=calibration_end, time_unit="D", tz=tz)
    days = UNIT_DAYS[time_unit]
    if days == 1.0:
        return rfm
    scaled = {"recency": rfm.recency / days, "T": rfm["T"] / days}
    if calibration_end is not None:
        scaled["duration_holdout"] = rfm.duration_holdout / days
    return rfm.mutate(**scaled)


def distinct_rows(rfm: ir.Table, keys: list[str], *, where: ir.BooleanValue | None = None) -> ir.Table:
    """``keys`` plus ``n_customers``: one row per distinct tuple (the weighted sufficient statistics)."""
    rows = rfm if where is None else rfm.filter(where)
    return rows.group_by(keys).aggregate(n_customers=rows.count().cast("float64"))


def scored(
    rfm: ir.Table,
    lookup: ir.Table,
    *,
    spend: dict[str, float] | None,
    margin: float,
) -> ir.Table:
    """customer_id, p_alive, expected_purchases, expected_spend, clv, risk_tier (one row per customer).

    ``lookup`` holds frequency, recency, T, p_alive, expected_purchases, discounted_purchases.
    ``spend`` holds Gamma-Gamma parameters p, q, gamma: E[M | x, m] = p(γ + m x)/(px + q - 1) for
    x > 0 and m > 0, else the population mean pγ/(q - 1). Without ``spend`` the customer's own mean
    repeat spend is used (the population mean of repeat spend for customers with none).
    """
    j = rfm.inner_join(lookup, KEYS)
    x, m = j.frequency.cast("float64"), j.monetary_value.cast("float64")
    has_spend = (x > 0) & (m > 0)
    if spend is not None:
        p, q, gamma = spend["p"], spend["q"], spend["gamma"]
        own = (ibis.literal(gamma) + m * x) * p / (x * p + (q - 1.0))
        expected_spend = ibis.ifelse(has_spend, own, ibis.literal(p * gamma / (q - 1.0)))
    else:
        mean_spend = rfm.filter((rfm.frequency > 0) & (rfm.monetary_value > 0)).monetary_value.mean()
        expected_spend = ibis.ifelse(has_spend, m, mean_spend.as_scalar())
    (first, second), (high, medium, low) = RISK_BOUNDS, RISK_TIERS
    tier = ibis.cases((j.p_alive < first, high), (j.p_alive < second, medium), else_=low)
    return j.select(
        customer_id=j.customer_id,
        p_alive=j.p_alive,
        expected_purchases=j.expected_purchases,
        expected_spend=expected_spend.cast("float64"),
        clv=(expected_spend * j.discounted_purchases * margin).cast("float64"),
        risk_tier=tier,
    )


def repeat_purchase_days(orders: ir.Table, *, start: date, end: date, tz: str = "UTC") -> ir.Table:
    """customer_id, day (days since ``start``), first_day: each distinct purchase day up to ``end``
    of customers whose first purchase lies in [start, end] (local days in ``tz``, as the RFM summary)."""
    o = counted_orders(orders)
    lo = datetime.combine(start - timedelta(days=3660), time(0), tzinfo=UTC)
    hi = datetime.combine(end + timedelta(days=2), time(0), tzinfo=UTC)
    day = local_day_number(o.ordered_at, tz, lo, hi) - (start - date(1970, 1, 1)).days
    days = o.select(o.customer_id, day=day).distinct()
    first = days.group_by("customer_id").aggregate(first_day=days.day.min())
    j = days.inner_join(first, "customer_id")
    horizon = (end - start).days
    return j.filter((j.first_day >= 0) & (j.day <= horizon))
