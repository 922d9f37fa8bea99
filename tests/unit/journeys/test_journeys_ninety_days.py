"""A 90-day, multi-step journey driven by a loop over days on a fake clock: each day the worker
advances every enrollment that is due (at its wake time) or woken by an event that arrived, and the
test checks exactly what was sent when, for a promoter, a silent customer and one who converts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from journey_helpers import Driver, occ

from aftersales.core.journeys import Occurrence, parse_journey

NY = ZoneInfo("America/New_York")
ENTERED = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)  # Monday 10:00 EST
LIFECYCLE = parse_journey(
    {
        "name": "lifecycle",
        "trigger": {"event": "order.delivered"},
        "steps": [
            {"id": "settle", "type": "wait", "duration": "1d"},
            {"id": "welcome", "type": "email", "template": "welcome", "category": "transactional"},
            {"id": "morning", "type": "wait_until", "at": "09:00", "days": ["mon", "tue", "wed", "thu", "fri"]},
            {"id": "tips", "type": "email", "template": "tips"},
            {"id": "week", "type": "wait", "duration": "1w"},
            {
                "id": "review",
                "type": "wait_for_event",
                "event": "review.submitted",
                "timeout": "14d",
                "on_event": "route",
                "on_timeout": "reminder",
            },
            {
                "id": "route",
                "type": "branch",
                "cases": [{"when": {"field": "event.score", "op": "ge", "value": 9}, "next": "referral"}],
                "default": "sorry",
            },
            {"id": "referral", "type": "email", "template": "referral", "next": "later"},
            {"id": "sorry", "type": "email", "template": "sorry", "next": "later"},
            {"id": "reminder", "type": "email", "template": "review-reminder"},
            {"id": "later", "type": "wait", "duration": "30d"},
            {
                "id": "ab",
                "type": "split",
                "variants": [{"name": "discount", "next": "offer"}, {"name": "plain", "next": "checkin"}],
            },
            {"id": "offer", "type": "email", "template": "offer", "next": "final"},
            {"id": "checkin", "type": "email", "template": "checkin"},
            {"id": "final", "type": "wait", "duration": "30d"},
            {"id": "morning2", "type": "wait_until", "at": "09:00"},
            {"id": "last", "type": "email", "template": "last"},
            {"id": "done", "type": "exit"},
        ],
    }
)


def drive(customer: str, occurrences: list[Occurrence]) -> Driver:
    """Run 90 days. Each day: advance at each due wake time, and at each event's arrival (the runtime
    wakes enrollments waiting for an event that arrived); positions never wake in the past."""
    d = Driver(LIFECYCLE, entered_at=ENTERED, fact_kw={"zone": NY, "customer_id": customer, "salt": "v1"})
    d.occurrences = occurrences
    day = ENTERED.replace(hour=0)
    for _ in range(90):
        end = day + timedelta(days=1)
        arrivals = sorted(o.occurred_at for o in occurrences if day <= o.occurred_at < end)
        while d.position is not None and d.position.status == "active":
            assert d.position.wake_at is not None
            due = [t for t in (d.position.wake_at, *arrivals) if t < end]
            if not due:
                break
            now = min(due)
            arrivals = [t for t in arrivals if t > now]
            decision = d.at(now)
            if decision.position.status == "active":
                assert decision.position.wake_at is not None and decision.position.wake_at > now
        day = end
    return d


def test_a_promoter_goes_through_the_whole_journey() -> None:
    d = drive("promoter-1", [occ("review.submitted", datetime(2026, 1, 20, 16, 0, tzinfo=UTC), score=10)])
    assert d.position is not None and d.position.status == "completed" and d.position.step_id == "done"
    variant = d.position.variants["ab"]
    offer = "offer" if variant == "discount" else "checkin"
    assert d.sent() == [
        ("welcome", datetime(2026, 1, 6, 15, 0, tzinfo=UTC)),
        ("tips", datetime(2026, 1, 7, 14, 0, tzinfo=UTC)),  # 09:00 EST
        ("referral", datetime(2026, 1, 20, 16, 0, tzinfo=UTC)),  # the review arrived
        (offer, datetime(2026, 2, 19, 16, 0, tzinfo=UTC)),
        ("last", datetime(2026, 3, 22, 13, 0, tzinfo=UTC)),  # 09:00 EDT: New York changed on 8 March
    ]
    categories = {e.step_id: (e.category, e.variant) for _, e in d.effects}
    assert categories["welcome"] == ("transactional", None)
    assert categories["last"] == ("marketing", variant)


def test_a_silent_customer_is_reminded_at_the_timeout() -> None:
    d = drive("silent-1", [])
    steps = [s for s, _ in d.sent()]
    assert steps[:3] == ["welcome", "tips", "reminder"]
    assert d.sent()[2][1] == datetime(2026, 1, 28, 14, 0, tzinfo=UTC)  # 7d + 14d after 7 Jan 14:00
    assert steps[-1] == "last" and len(steps) == 5


def test_a_detractor_gets_the_apology() -> None:
    d = drive("detractor-1", [occ("review.submitted", datetime(2026, 1, 16, 9, 30, tzinfo=UTC), score=3)])
    assert [s for s, _ in d.sent()][:3] == ["welcome", "tips", "sorry"]


def test_a_customer_who_converts_leaves_and_receives_nothing_more() -> None:
    ordered = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
    d = drive("buyer-1", [occ("order.placed", ordered)])
    assert d.position is not None and d.position.status == "exited" and d.position.exit_reason == "goal"
    assert all(t < ordered for _, t in d.sent())
    assert [s for s, _ in d.sent()] == ["welcome", "tips", "reminder"]
