"""Checkout dropout and adoption rates: did a start event reach its goal within a time window?

* **Checkout dropout rate** = checkout starts not followed by a completion within the window
  (24 hours by default) / checkout starts × 100. A start and a completion belong together when
  they have the same person (``customer_id``, else ``anonymous_id``) and the completion happens at
  or after the start and at most ``window_hours`` later.
* **Adoption rate** = registered products that reach an activation event (``product_activated``
  by default) by the same customer within N days (30 by default) / registered products × 100. A
  product registration's clock starts at ``registered_at``.

Starts are attributed to the period in which they happen; a start near the end of the data may not
have had its full window yet (the result shows ``starts`` so the caller can judge).

>>> dropout_formula(starts=200, completed=150)
25.0
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from aftersales.core.metrics.base import count_if, ratio, same_segment, segmented, spine
from aftersales.core.metrics.periods import Periods, period_index

__all__ = ["adoption_rate", "checkout_dropout_rate", "dropout_formula"]


def dropout_formula(*, starts: int, completed: int) -> float | None:
    """(starts − completed) / starts × 100; ``None`` without starts."""
    return None if starts == 0 else (starts - completed) * 100.0 / starts


def _reached(
    subjects: ir.Table,
    goals: ir.Table,
    periods: Periods,
    window: ir.IntervalScalar,
    customers: ir.Table | None,
    by: str | None,
) -> ir.Table:
    """Per (period, segment) of the subjects' start: subjects and how many reached a goal within ``window``.

    ``subjects``: subject_id, who, customer_id, started_at; ``goals``: goal_who, reached_at.
    """
    s = segmented(subjects, customers, by)
    s = s.mutate(period_index=period_index(s.started_at, periods)).filter(lambda t: t.period_index.notnull())
    j = s.left_join(
        goals,
        [s.who == goals.goal_who, goals.reached_at >= s.started_at, goals.reached_at <= s.started_at + window],
    )
    per_subject = j.group_by(["subject_id", "period_index", "segment"]).aggregate(
        hit=ibis.ifelse(j.reached_at.notnull(), 1, 0).max()
    )
    agg = per_subject.group_by(["period_index", "segment"]).aggregate(
        starts=per_subject.count().cast("int64"), completed=count_if(per_subject.hit == 1)
    )
    grid = spine(periods, s)
    out = grid.left_join(agg, [grid.period_index == agg.period_index, *same_segment(grid.segment, agg.segment, by)])
    return out.select(grid.period, grid.segment, starts=agg.starts.fill_null(0), completed=agg.completed.fill_null(0))


def checkout_dropout_rate(
    events: ir.Table,
    periods: Periods,
    *,
    window_hours: int = 24,
    start_event: str = "checkout_started",
    complete_event: str = "checkout_completed",
    customers: ir.Table | None = None,
    by: str | None = None,
) -> ir.Table:
    """Checkout starts without a completion within ``window_hours`` / starts × 100."""
    who = ibis.coalesce(events.customer_id, events.anonymous_id)
    starts = events.filter(events.name == start_event).select(
        subject_id=events.event_id, who=who, customer_id=events.customer_id, started_at=events.occurred_at
    )
    goals = events.filter(events.name == complete_event).select(goal_who=who, reached_at=events.occurred_at)
    r = _reached(starts, goals, periods, ibis.interval(hours=window_hours), customers, by)
    return r.select(
        metric=ibis.literal("checkout_dropout_rate"),
        period=r.period,
        segment=r.segment,
        value=ratio(r.starts - r.completed, r.starts, 100.0),
        starts=r.starts,
        completed=r.completed,
    )


def _adoption(
    subjects: ir.Table,
    events: ir.Table,
    periods: Periods,
    metric: str,
    *,
    days: int,
    activation_event: str,
    customers: ir.Table | None,
    by: str | None,
) -> ir.Table:
    goals = events.filter(events.name == activation_event).select(
        goal_who=events.customer_id, reached_at=events.occurred_at
    )
    window = ibis.interval(days=int(days))
    r = _reached(subjects, goals, periods, window, customers, by)
    return r.select(
        metric=ibis.literal(metric),
        period=r.period,
        segment=r.segment,
        value=ratio(r.completed, r.starts, 100.0),
        registered=r.starts,
        adopted=r.completed,
    )


def adoption_rate(
    product_registrations: ir.Table,
    events: ir.Table,
    periods: Periods,
    *,
    days: int = 30,
    activation_event: str = "product_activated",
    customers: ir.Table | None = None,
    by: str | None = None,
) -> ir.Table:
    """Registered products whose owner reaches ``activation_event`` within ``days`` / registrations × 100."""
    r = product_registrations
    subjects = r.select(
        subject_id=r.registration_id, who=r.customer_id, customer_id=r.customer_id, started_at=r.registered_at
    )
    return _adoption(
        subjects,
        events,
        periods,
        "adoption_rate",
        days=days,
        activation_event=activation_event,
        customers=customers,
        by=by,
    )
