"""MRR, its movements and MRR churn, from the subscriptions' MRR history.

The MRR of a subscription at instant ``t`` is the ``mrr`` of its latest ``subscription_mrr`` row
effective before ``t`` (0 once ``cancelled_at`` is before ``t``); a customer's MRR is the sum over
their subscriptions. Comparing each customer's MRR at the period start ``s`` and end ``e``:

=============  ==================================================  =====================
movement       when                                                amount
=============  ==================================================  =====================
new            MRR(s) = 0 < MRR(e), never paying before ``s``      MRR(e)
reactivation   MRR(s) = 0 < MRR(e), paid at some time before ``s`` MRR(e)
expansion      0 < MRR(s) < MRR(e)                                 MRR(e) − MRR(s)
contraction    0 < MRR(e) < MRR(s)                                 MRR(s) − MRR(e)
churned        MRR(s) > 0 = MRR(e)                                 MRR(s)
=============  ==================================================  =====================

so that ending = starting + new + reactivation + expansion − contraction − churned, and::

    gross MRR churn = (churned + contraction) / starting MRR × 100
    net MRR churn   = (churned + contraction − expansion − reactivation) / starting MRR × 100

Movements within a period that cancel out (an upgrade then a downgrade) are not seen: this is the
start-versus-end comparison most MRR reports use.

>>> mrr_churn_formula(starting=1000.0, churned=50.0, contraction=30.0, expansion=60.0, reactivation=10.0)
(8.0, 1.0)
"""

from __future__ import annotations

from typing import Unpack

import ibis
import ibis.expr.types as ir

from aftersales.core.metrics.base import SegmentOptions, ratio, same_segment, segmented, to_long
from aftersales.core.metrics.periods import Periods, timestamp_literal

__all__ = ["mrr_churn", "mrr_churn_formula", "mrr_movements", "net_mrr_churn"]


def mrr_churn_formula(
    *, starting: float, churned: float, contraction: float, expansion: float, reactivation: float
) -> tuple[float | None, float | None]:
    """``(gross, net)`` MRR churn in percent; ``(None, None)`` when starting MRR is 0."""
    if starting == 0:
        return None, None
    gross = (churned + contraction) * 100.0 / starting
    return gross, (churned + contraction - expansion - reactivation) * 100.0 / starting


def _customer_mrr(
    subscriptions: ir.Table, subscription_mrr: ir.Table, periods: Periods, customers: ir.Table | None, by: str | None
) -> ir.Table:
    """Per (customer, segment): ``m0 … mn`` (MRR at each boundary) and ``first_paid`` (first positive MRR)."""
    subs = segmented(subscriptions, customers, by).select("subscription_id", "customer_id", "segment", "cancelled_at")
    h = subscription_mrr
    snapshots = []
    for i, b in enumerate(periods.bounds):
        bl = timestamp_literal(b)
        last = h.filter(h.effective_at < bl).group_by("subscription_id").aggregate(m=h.mrr.argmax(h.effective_at))
        snapshots.append(last.mutate(i=ibis.literal(i, type="int64"), b=bl))
    snap = ibis.union(*snapshots)
    j = snap.inner_join(subs, snap.subscription_id == subs.subscription_id)
    value = ibis.ifelse(j.cancelled_at.notnull() & (j.cancelled_at < j.b), 0.0, j.m.cast("float64"))
    wide = j.group_by(["customer_id", "segment"]).aggregate(
        **{f"m{i}": ibis.ifelse(j.i == i, value, 0.0).sum().cast("float64") for i in range(len(periods.bounds))}
    )
    paid = h.filter(h.mrr > 0)
    paid = paid.inner_join(subs, paid.subscription_id == subs.subscription_id)
    first = paid.group_by(["customer_id", "segment"]).aggregate(first_paid=paid.effective_at.min())
    out = wide.left_join(first, [wide.customer_id == first.customer_id, *same_segment(wide.segment, first.segment, by)])
    return out.select(
        wide.customer_id, wide.segment, first.first_paid, *[wide[f"m{i}"] for i in range(len(periods.bounds))]
    )


def _movements(
    subscriptions: ir.Table,
    subscription_mrr: ir.Table,
    periods: Periods,
    customers: ir.Table | None,
    by: str | None,
) -> ir.Table:
    c = _customer_mrr(subscriptions, subscription_mrr, periods, customers, by)
    aggs: dict[str, ir.Value] = {}
    for i in range(len(periods)):
        s, e = c[f"m{i}"], c[f"m{i + 1}"]
        before = c.first_paid.notnull() & (c.first_paid < timestamp_literal(periods.bounds[i]))
        aggs[f"start{i}"] = s.sum()
        aggs[f"end{i}"] = e.sum()
        aggs[f"new{i}"] = ibis.ifelse((s == 0) & (e > 0) & ~before, e, 0.0).sum()
        aggs[f"reactivation{i}"] = ibis.ifelse((s == 0) & (e > 0) & before, e, 0.0).sum()
        aggs[f"expansion{i}"] = ibis.ifelse((s > 0) & (e > s), e - s, 0.0).sum()
        aggs[f"contraction{i}"] = ibis.ifelse((e > 0) & (e < s), s - e, 0.0).sum()
        aggs[f"churned{i}"] = ibis.ifelse((s > 0) & (e == 0), s, 0.0).sum()
    return c.group_by("segment").aggregate(**{k: v.cast("float64") for k, v in aggs.items()})


_PARTS = ("start", "new", "reactivation", "expansion", "contraction", "churned", "end")


def _long(
    kind: str, subscriptions: ir.Table, subscription_mrr: ir.Table, periods: Periods, **kw: Unpack[SegmentOptions]
) -> ir.Table:
    wide = _movements(subscriptions, subscription_mrr, periods, kw.get("customers"), kw.get("by"))

    def columns(i: int) -> dict[str, ir.Value]:
        p = {k: wide[f"{k}{i}"] for k in _PARTS}
        lost = p["churned"] + p["contraction"]
        if kind == "mrr_movements":
            value = p["end"]
        elif kind == "mrr_churn":
            value = ratio(lost, p["start"], 100.0)
        else:
            value = ratio(lost - p["expansion"] - p["reactivation"], p["start"], 100.0)
        names = {"start": "starting_mrr", "end": "ending_mrr"}
        return {"value": value, **{names.get(k, k): v for k, v in p.items()}}

    return to_long(wide, periods, columns, kind)


def mrr_movements(
    subscriptions: ir.Table, subscription_mrr: ir.Table, periods: Periods, **kw: Unpack[SegmentOptions]
) -> ir.Table:
    """Per period: ending MRR (``value``) with starting MRR and the five movements."""
    return _long("mrr_movements", subscriptions, subscription_mrr, periods, **kw)


def mrr_churn(
    subscriptions: ir.Table, subscription_mrr: ir.Table, periods: Periods, **kw: Unpack[SegmentOptions]
) -> ir.Table:
    """Gross MRR churn: (churned + contraction) / starting MRR × 100."""
    return _long("mrr_churn", subscriptions, subscription_mrr, periods, **kw)


def net_mrr_churn(
    subscriptions: ir.Table, subscription_mrr: ir.Table, periods: Periods, **kw: Unpack[SegmentOptions]
) -> ir.Table:
    """Net MRR churn: (churned + contraction − expansion − reactivation) / starting MRR × 100.

    Negative means net expansion: existing customers added more than was lost.
    """
    return _long("net_mrr_churn", subscriptions, subscription_mrr, periods, **kw)
