"""When a journey enrolls a customer: event-trigger filters, date rules and re-entry (pure).

**Event triggers** (:func:`trigger_matches`): an occurrence matches when its name is the
trigger's ``event`` and every ``where`` filter holds on its properties.

**Date rules** (:func:`date_rule_due`) turn one row into the latest due instant at or before
``now`` and a *trigger key* naming that due date; the runtime enrolls a customer when a due
instant falls in the window it scans, and the key (unique per journey) makes each due date
enroll once however often the window is scanned. Date values are UTC days (a day's due instant
is its 00:00 UTC plus the offset) or zone-aware time stamps (a naive one is read as UTC):

* ``{field: F, offset: o}``: due at ``row[F] + o``; key ``date|<customer>|F|<row[F] ISO>``;
* ``{rule: no_order_for, days: n}``: due at ``row.last_order_at + n days``; key
  ``date|<customer>|no_order_for|<last order ISO>``;
* ``{rule: subscription_renewal, offset: o, cycle: c}``: due at ``renewal_k + o`` for the latest
  renewal ``renewal_k = started_at + k cycles`` (k >= 1) that is due; key
  ``date|<customer>|subscription_renewal|<subscription>|<renewal ISO>``.

A month cycle keeps the day of the month, clamped to the month's end (started 31 January: renews
28/29 February, 31 March, 30 April, ...); a quarter is 3 months, a year 12. A renewal at or after
the subscription's ``cancelled_at`` (or any renewal when the status is ``cancelled`` without a
time) never happens. A new last order, maintenance date or renewal gives a new key: the customer
may enroll again, as the journey's re-entry rule allows.

**Re-entry** (:func:`reentry_allowed`): ``never`` admits a customer who never entered the
journey; ``always`` and ``after`` never admit a customer still active in it; ``after: d`` admits
again once ``d`` has passed since the last entry.

>>> from datetime import date
>>> from aftersales.core.journeys.model import FieldDateRule
>>> rule = FieldDateRule("next_maintenance_due_on", timedelta(days=-14))
>>> row = {"customer_id": "c1", "next_maintenance_due_on": date(2026, 5, 1)}
>>> date_rule_due(rule, row, datetime(2026, 4, 20, tzinfo=UTC))
(datetime.datetime(2026, 4, 17, 0, 0, tzinfo=datetime.timezone.utc), 'date|c1|next_maintenance_due_on|2026-05-01')
>>> date_rule_due(rule, row, datetime(2026, 4, 16, tzinfo=UTC)) is None
True
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aftersales.core.journeys.model import (
    DateRule,
    EventTrigger,
    Journey,
    NoOrderFor,
    SubscriptionRenewal,
)

__all__ = ["date_rule_due", "reentry_allowed", "trigger_matches"]

_CYCLE_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def trigger_matches(journey: Journey, occurrence: Any) -> bool:
    """Whether ``occurrence`` (an :class:`~.machine.Occurrence`: ``name`` and ``properties``)
    enrolls customers into ``journey``: an event trigger of that name whose filters all hold."""
    trigger = journey.trigger
    if not isinstance(trigger, EventTrigger) or occurrence.name != trigger.event:
        return False
    return all(f.holds(occurrence.properties) for f in trigger.where)


def _instant(value: Any) -> tuple[datetime, str] | None:
    """A row value as (UTC instant, its ISO text for keys); ``None`` when absent or unreadable."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        utc = aware.astimezone(UTC)
        return utc, utc.isoformat()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC), value.isoformat()
    return None


def _add_months(start: datetime, months: int) -> datetime:
    """``start`` moved by whole months, the day clamped to the target month's last day."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1]))


def _renewal(start: datetime, cycle: str, k: int) -> datetime:
    if cycle == "week":
        return start + timedelta(weeks=k)
    return _add_months(start, k * _CYCLE_MONTHS[cycle])


def _renewal_due(rule: SubscriptionRenewal, row: Mapping[str, Any], now: datetime) -> tuple[datetime, str] | None:
    started = _instant(row.get("started_at"))
    if started is None:
        return None
    start = started[0]
    cancelled = _instant(row.get("cancelled_at"))
    if cancelled is None and row.get("status") == "cancelled":
        return None
    # The latest k >= 1 with renewal_k + offset <= now: estimate k from the mean cycle, then step.
    approx = {"week": 7.0, "month": 30.436875, "quarter": 91.310625, "year": 365.2425}[rule.cycle]
    k = max(1, int((now - rule.offset - start).total_seconds() / 86400 / approx) + 1)
    while k > 1 and _renewal(start, rule.cycle, k) + rule.offset > now:
        k -= 1
    while _renewal(start, rule.cycle, k + 1) + rule.offset <= now:
        k += 1
    renewal = _renewal(start, rule.cycle, k)
    if renewal + rule.offset > now:
        return None
    if cancelled is not None:
        while k >= 1 and _renewal(start, rule.cycle, k) >= cancelled[0]:
            k -= 1
        if k < 1:
            return None
        renewal = _renewal(start, rule.cycle, k)
    customer, subscription = row.get("customer_id"), row.get("subscription_id")
    return renewal + rule.offset, f"date|{customer}|{rule.rule}|{subscription}|{renewal.isoformat()}"


def date_rule_due(rule: DateRule, row: Mapping[str, Any], now: datetime) -> tuple[datetime, str] | None:
    """The latest due instant ``<= now`` of ``rule`` for ``row`` and its trigger key (module
    docstring), or ``None`` when nothing is due yet or the row lacks the date.

    ``row`` is a profile row (``customer_id`` and the rule's field) or, for subscription renewals,
    a subscription row (``customer_id``, ``subscription_id``, ``started_at``, ``status``,
    ``cancelled_at``).

    >>> rule = SubscriptionRenewal("month", timedelta(days=-7))
    >>> sub = {"customer_id": "c", "subscription_id": "s", "started_at": datetime(2026, 1, 31, tzinfo=UTC)}
    >>> due, key = date_rule_due(rule, sub, datetime(2026, 3, 25, tzinfo=UTC))
    >>> due.date().isoformat(), key
    ('2026-03-24', 'date|c|subscription_renewal|s|2026-03-31T00:00:00+00:00')
    """
    if isinstance(rule, SubscriptionRenewal):
        return _renewal_due(rule, row, now)
    if isinstance(rule, NoOrderFor):
        field, offset = "last_order_at", timedelta(days=rule.days)
    else:
        field, offset = rule.field, rule.offset
    base = _instant(row.get(field))
    if base is None or base[0] + offset > now:
        return None
    return base[
        0
    ] + offset, f"date|{row.get('customer_id')}|{rule.rule if isinstance(rule, NoOrderFor) else field}|{base[1]}"


def reentry_allowed(journey: Journey, *, last_entered_at: datetime | None, active: bool, at: datetime) -> bool:
    """Whether a customer may enter ``journey`` at ``at`` (module docstring); ``last_entered_at``
    is their latest entry (``None``: never entered), ``active`` whether that enrollment is still
    running. Held-out entries count as entries.

    >>> from aftersales.core.journeys.parse import parse_journey
    >>> j = parse_journey({"name": "j", "trigger": {"event": "order.placed"}, "reentry": {"after": "90d"},
    ...                    "steps": [{"id": "x", "type": "exit"}]})
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> [reentry_allowed(j, last_entered_at=t, active=False, at=t + timedelta(days=d)) for d in (89, 90)]
    [False, True]
    """
    if last_entered_at is None:
        return True
    reentry = journey.reentry
    if reentry.mode == "never" or active:
        return False
    return reentry.mode == "always" or (reentry.after is not None and at - last_entered_at >= reentry.after)
