"""Trigger filters, date rules (each due date once, via its trigger key) and re-entry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from journey_helpers import journey, occ

from aftersales.core.journeys import (
    DateTrigger,
    FieldDateRule,
    NoOrderFor,
    SubscriptionRenewal,
    date_rule_due,
    reentry_allowed,
    trigger_matches,
)
from aftersales.core.journeys.conditions import compare

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
EXIT = {"id": "x", "type": "exit"}


def test_trigger_filters_must_all_hold() -> None:
    j = journey(
        EXIT,
        trigger={
            "event": "order.delivered",
            "where": [
                {"property": "channel", "op": "in", "value": ["web", "app"]},
                {"property": "revenue", "op": "ge", "value": 50},
            ],
        },
    )
    assert trigger_matches(j, occ("order.delivered", NOW, channel="web", revenue=80.0))
    assert not trigger_matches(j, occ("order.delivered", NOW, channel="store", revenue=80.0))
    assert not trigger_matches(j, occ("order.delivered", NOW, channel="web", revenue=20))
    assert not trigger_matches(j, occ("order.delivered", NOW, channel="web"))  # a missing property is null
    assert not trigger_matches(j, occ("order.placed", NOW, channel="web", revenue=80))
    dated = journey(EXIT, trigger={"date": {"field": "warranty_ends_on"}})
    assert not trigger_matches(dated, occ("order.delivered", NOW))


@pytest.mark.parametrize(
    ("actual", "op", "value", "holds"),
    [
        ("a", "eq", "a", True),
        (1, "eq", 1.0, True),
        (1, "eq", "1", False),
        (True, "eq", 1, False),
        (None, "ne", "a", False),
        ("b", "ne", "a", True),
        (3, "lt", 4, True),
        ("2026-03-01", "ge", "2026-02-28", True),
        (date(2026, 3, 1), "lt", "2026-03-02", True),
        (datetime(2026, 3, 1, 23, 0, tzinfo=UTC), "eq", "2026-03-01", True),
        ("not a date", "lt", date(2026, 1, 1), False),
        (float("nan"), "eq", float("nan"), False),
        ("tea", "in", ("coffee", "tea"), True),
        ("tea", "not_in", ("coffee", "tea"), False),
        (None, "not_in", ("coffee",), False),
        (["coffee", "tea"], "contains", "tea", True),
        ("espresso machine", "contains", "machine", True),
        (None, "is_null", None, True),
        (0, "not_null", None, True),
    ],
)
def test_operators(actual: object, op: str, value: object, holds: bool) -> None:
    assert compare(actual, op, value) is holds


def test_profile_date_rules() -> None:
    rule = FieldDateRule("next_maintenance_due_on", -14 * DAY)
    due = date_rule_due(rule, {"customer_id": "c1", "next_maintenance_due_on": date(2026, 6, 15)}, NOW)
    assert due == (datetime(2026, 6, 1, tzinfo=UTC), "date|c1|next_maintenance_due_on|2026-06-15")
    assert date_rule_due(rule, {"customer_id": "c1", "next_maintenance_due_on": date(2026, 6, 16)}, NOW) is None
    assert date_rule_due(rule, {"customer_id": "c1", "next_maintenance_due_on": None}, NOW) is None
    assert date_rule_due(rule, {"customer_id": "c1"}, NOW) is None
    later = date_rule_due(rule, {"customer_id": "c1", "next_maintenance_due_on": "2026-06-15"}, NOW + DAY)
    assert later == due  # the same due date gives the same key whenever it is scanned
    rolled = date_rule_due(
        rule, {"customer_id": "c1", "next_maintenance_due_on": date(2026, 12, 15)}, datetime(2026, 12, 2, tzinfo=UTC)
    )
    assert rolled is not None and rolled[1] != due[1]  # the next service date: a new key
    stamp = FieldDateRule("last_order_at", 30 * DAY)
    ordered = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    assert date_rule_due(stamp, {"customer_id": "c2", "last_order_at": ordered}, NOW) == (
        ordered + 30 * DAY,
        "date|c2|last_order_at|2026-05-01T09:30:00+00:00",
    )


def test_no_order_for() -> None:
    rule = NoOrderFor(120)
    last = datetime(2026, 1, 2, 8, 0, tzinfo=UTC)
    row = {"customer_id": "c3", "last_order_at": last}
    assert date_rule_due(rule, row, last + 119 * DAY) is None
    assert date_rule_due(rule, row, last + 120 * DAY) == (
        last + 120 * DAY,
        "date|c3|no_order_for|2026-01-02T08:00:00+00:00",
    )
    naive = {"customer_id": "c3", "last_order_at": datetime(2026, 1, 2, 8, 0)}
    assert date_rule_due(rule, naive, last + 121 * DAY) == date_rule_due(rule, row, last + 121 * DAY)


def test_subscription_renewals_month_ends_and_cancellation() -> None:
    rule = SubscriptionRenewal("month", -7 * DAY)
    sub = {"customer_id": "c", "subscription_id": "s1", "started_at": datetime(2026, 1, 31, 10, 0, tzinfo=UTC)}
    feb = datetime(2026, 2, 28, 10, 0, tzinfo=UTC)  # 31 January + 1 month, clamped
    assert date_rule_due(rule, sub, feb - 7 * DAY - timedelta(seconds=1)) is None
    assert date_rule_due(rule, sub, feb - 7 * DAY) == (
        feb - 7 * DAY,
        f"date|c|subscription_renewal|s1|{feb.isoformat()}",
    )
    march = datetime(2026, 3, 31, 10, 0, tzinfo=UTC)
    assert date_rule_due(rule, sub, march - DAY) == (
        march - 7 * DAY,
        f"date|c|subscription_renewal|s1|{march.isoformat()}",
    )
    far = date_rule_due(rule, sub, datetime(2031, 6, 1, tzinfo=UTC))
    assert far is not None and far[1].endswith("2031-05-31T10:00:00+00:00")  # due 24 May; 23 June is not yet
    cancelled = {**sub, "status": "cancelled", "cancelled_at": datetime(2026, 3, 15, tzinfo=UTC)}
    after = date_rule_due(rule, cancelled, datetime(2026, 6, 1, tzinfo=UTC))
    assert after is not None and after[1].endswith(feb.isoformat())  # no renewal after cancelling
    assert date_rule_due(rule, {**sub, "status": "cancelled"}, datetime(2026, 6, 1, tzinfo=UTC)) is None
    yearly = SubscriptionRenewal("year", timedelta(0))
    assert date_rule_due(yearly, sub, datetime(2027, 1, 31, 10, 0, tzinfo=UTC)) is not None
    assert date_rule_due(yearly, sub, datetime(2027, 1, 31, 9, 59, tzinfo=UTC)) is None
    weekly = SubscriptionRenewal("week", timedelta(0))
    due = date_rule_due(weekly, sub, datetime(2026, 2, 15, tzinfo=UTC))
    assert due is not None and due[0] == datetime(2026, 2, 14, 10, 0, tzinfo=UTC)


def test_date_triggers_parse_into_their_rules() -> None:
    j = journey(
        EXIT, trigger={"date": {"rule": "subscription_renewal", "offset": "-7d", "cycle": "quarter"}, "lookback": "2d"}
    )
    assert j.trigger == DateTrigger(SubscriptionRenewal("quarter", -7 * DAY), 2 * DAY)


def test_reentry_rules() -> None:
    never = journey(EXIT)
    always = journey(EXIT, reentry="always")
    after = journey(EXIT, reentry={"after": "90d"})
    t = NOW
    for j in (never, always, after):
        assert reentry_allowed(j, last_entered_at=None, active=False, at=t)
        assert not reentry_allowed(j, last_entered_at=t - 400 * DAY, active=True, at=t)
    assert not reentry_allowed(never, last_entered_at=t - 400 * DAY, active=False, at=t)
    assert reentry_allowed(always, last_entered_at=t - DAY, active=False, at=t)
    assert not reentry_allowed(after, last_entered_at=t - 89 * DAY, active=False, at=t)
    assert reentry_allowed(after, last_entered_at=t - 90 * DAY, active=False, at=t)
