"""The subscription line (a coffee club): sign-ups, trials, upgrades, downgrades, cancellations
and reactivations, with the MRR history they imply.

A share ``subscriber_share`` of customers subscribes Exp(mean 60 days) after acquisition; 30 % start
with a 14-day free trial (MRR 0, then the plan's price). Every 30.44 days afterwards (a month),
an active subscription cancels with probability 4.5 % (basic) / 3.5 % (others), upgrades one plan
with 2 % and downgrades with 1 %; a cancelled one comes back on its last plan with 3 % a month.
Each change is one ``subscription_mrr`` row; a cancellation is a row with MRR 0.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from aftersales.core.synthetic.arrays import contract_table, format_ids, key_width, timestamps
from aftersales.core.synthetic.params import StoreParams

__all__ = ["PLANS", "draw_subscriptions"]

PLANS = (("basic", 12.0), ("standard", 24.0), ("premium", 45.0))
CANCEL_REASONS = ("too_expensive", "not_using", "switched_provider", "moved", "other")
MONTH_DAYS = 30.44
TRIAL_DAYS = 14.0


def draw_subscriptions(
    rng: np.random.Generator,
    *,
    created: np.ndarray,
    customer_ids: pa.StringArray,
    end_day: float,
    params: StoreParams,
) -> tuple[pa.Table, pa.Table]:
    """The ``subscriptions`` and ``subscription_mrr`` tables."""
    start = created + rng.exponential(60.0, size=created.size)
    cust = np.flatnonzero((rng.random(created.size) < params.subscriber_share) & (start < end_day))
    cust = cust[np.argsort(start[cust], kind="stable")]
    start = start[cust]
    n = cust.size
    price = np.array([p for _, p in PLANS])
    plan = rng.choice(3, size=n, p=[0.5, 0.35, 0.15])
    trial = rng.random(n) < 0.3
    paid_from = start + np.where(trial, TRIAL_DAYS, 0.0)

    rows_sub = [np.arange(n)[trial], np.arange(n)]
    rows_at = [start[trial], paid_from]
    rows_mrr = [np.zeros(int(trial.sum())), price[plan]]
    active = np.ones(n, dtype=bool)
    cancelled_at = np.full(n, np.nan)
    for k in range(1, int((end_day - start.min()) / MONTH_DAYS) + 1 if n else 0):
        at = paid_from + k * MONTH_DAYS
        live = at < end_day
        u = rng.random(n)
        cancel = live & active & (u < np.where(plan == 0, 0.045, 0.035))
        up = live & active & ~cancel & (plan < 2) & (u > 0.98)
        down = live & active & ~cancel & (plan > 0) & (u > 0.95) & (u <= 0.96)
        back = live & ~active & (u < 0.03)
        plan = plan + up - down
        active = (active & ~cancel) | back
        cancelled_at = np.where(cancel, at, np.where(back, np.nan, cancelled_at))
        changed = np.flatnonzero(cancel | up | down | back)
        rows_sub.append(changed)
        rows_at.append(at[changed])
        rows_mrr.append(np.where(cancel[changed], 0.0, price[plan[changed]]))

    in_trial = trial & (paid_from >= end_day)
    is_cancelled = ~np.isnan(cancelled_at)
    status = np.where(is_cancelled, 3, np.where(in_trial, 0, 1))
    reason = rng.choice(len(CANCEL_REASONS), size=n, p=[0.35, 0.3, 0.15, 0.1, 0.1])
    ids = format_ids("S", np.arange(1, n + 1), key_width(n, 7))
    subscriptions = contract_table(
        "subscriptions",
        {
            "subscription_id": ids,
            "customer_id": customer_ids.take(pa.array(cust)),
            "plan": pa.array([name for name, _ in PLANS]).take(pa.array(plan)),
            "status": pa.array(("trialing", "active", "paused", "cancelled")).take(pa.array(status)),
            "started_at": timestamps(start),
            "cancelled_at": timestamps(cancelled_at, is_cancelled),
            "cancel_reason": pc.if_else(
                pa.array(is_cancelled), pa.array(CANCEL_REASONS).take(pa.array(reason)), pa.scalar(None, pa.string())
            ),
        },
    )
    sub = np.concatenate(rows_sub)
    at = np.concatenate(rows_at)
    mrr = np.concatenate(rows_mrr)
    keep = at < end_day
    sub, at, mrr = sub[keep], at[keep], mrr[keep]
    order = np.lexsort((at, sub))
    history = contract_table(
        "subscription_mrr",
        {
            "subscription_id": ids.take(pa.array(sub[order])),
            "effective_at": timestamps(at[order]),
            "mrr": mrr[order],
        },
    )
    return subscriptions, history
