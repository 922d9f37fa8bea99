"""A 90-day journey run through the real store on a manual clock (SQLite and PostgreSQL): triggers
with filters, the holdout drawn by the experiment engine's hash, waits in each customer's own zone
(the business default for customers without one), an event waking a waiting enrollment, a split,
exits on the goal and on an exit event, message rows keyed per (enrollment, step), and a repeated
scan that enrolls nobody twice."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from zoneinfo import ZoneInfo

from aftersales.core.experiments.assignment import Experiment, HoldoutGroup
from aftersales.services.clock import ManualClock
from aftersales.services.operational.journeys import definitions
from aftersales.services.operational.journeys.advance import message_id
from aftersales.services.operational.journeys.enroll import enrollment_id, scan_journey

from .conftest import T0, days, run_until, worker

DOC = {
    "name": "post-purchase",
    "trigger": {"event": "order.delivered", "where": [{"property": "channel", "op": "eq", "value": "web"}]},
    "holdout": 0.2,
    "exit": {"on_events": ["order.returned"]},
    "steps": [
        {"id": "settle", "type": "wait", "duration": "2d"},
        {"id": "morning", "type": "wait_until", "at": "09:00", "days": ["mon", "tue", "wed", "thu", "fri"]},
        {"id": "thanks", "type": "email", "template": "thank-you"},
        {"id": "review", "type": "wait_for_event", "event": "review.submitted", "timeout": "7d",
         "on_event": "done", "on_timeout": "nudge"},
        {"id": "nudge", "type": "split", "variants": [{"name": "a", "weight": 1}, {"name": "b", "weight": 1}]},
        {"id": "ask", "type": "email", "template": "review-request"},
        {"id": "later", "type": "wait", "duration": "60d"},
        {"id": "again", "type": "webhook", "url": "https://crm.example.com/hook"},
        {"id": "done", "type": "exit"},
    ],
}  # fmt: skip
ZONES = {0: "Europe/Oslo", 1: "America/New_York", 2: None}
DEFAULT_ZONE = "Asia/Tokyo"


def _zone(i: int) -> ZoneInfo:
    return ZoneInfo(ZONES[i % 3] or DEFAULT_ZONE)


def test_ninety_days_on_a_manual_clock(store) -> None:
    ids = [f"c{i:02d}" for i in range(40)]
    for i, c in enumerate(ids):
        store.customers([c], timezone=ZONES[i % 3])
    clock = ManualClock(T0)
    applied = definitions.apply(store.uow, DOC, clock=clock)
    journey_id, salt = applied.journey.journey_id, applied.journey.salt
    delivered = {c: T0 + timedelta(hours=i + 1) for i, c in enumerate(ids)}
    store.orders(
        [
            {"order_id": f"o-{c}", "customer_id": c, "ordered_at": T0 - days(3), "delivered_at": delivered[c],
             "channel": "store" if c == "c05" else "web",
             "returned_at": delivered[c] + days(1) if c == "c03" else None}
            for c in ids
        ]
        + [{"order_id": "o-c02-2", "customer_id": "c02", "ordered_at": delivered["c02"] + days(1), "status": "placed"}]
    )  # fmt: skip
    review_at = delivered["c04"] + days(6)
    store.events([{"event_id": "r1", "customer_id": "c04", "name": "review.submitted", "occurred_at": review_at}])
    w = worker(store, clock, default_timezone=DEFAULT_ZONE)
    facts = [*delivered.values(), delivered["c02"] + days(1), delivered["c03"] + days(1), review_at]
    run_until(w, clock, store, T0 + days(90), facts=facts)

    held = HoldoutGroup(DOC["name"], 0.2, salt)
    rows = {e["customer_id"]: e for e in store.enrollments()}
    assert set(rows) == set(ids) - {"c05"}  # the store order does not pass the filter
    for c, e in rows.items():
        assert e["enrollment_id"] == enrollment_id(journey_id, f"o-{c}")
        assert e["arm"] == ("holdout" if held.contains(c) else "journey")
        assert e["entered_at"] == delivered[c]
    assert 0 < sum(e["arm"] == "holdout" for e in rows.values()) < 20

    sent: dict[str, list[dict]] = defaultdict(list)
    for m in store.messages():
        sent[m["customer_id"]].append(m)
        assert m["message_id"] == message_id(m["enrollment_id"], m["step_id"]) and m["status"] == "queued"
        assert m["not_before"] == m["created_at"]
    split = Experiment("post-purchase:nudge", ("a", "b"), (1, 1), salt=salt)
    for i, c in enumerate(ids):
        e = rows.get(c)
        got = sent.get(c, [])
        if e is None or e["arm"] == "holdout":
            assert got == [] and (e is None or e["status"] == "held_out")
            continue
        if c == "c02":  # the goal (a new order) a day after entry: gone before the first e-mail
            assert (got, e["status"], e["exit_reason"]) == ([], "exited", "goal")
            continue
        if c == "c03":
            assert (got, e["status"], e["exit_reason"]) == ([], "exited", "event order.returned")
            continue
        thanks = got[0]
        local = thanks["created_at"].astimezone(_zone(i))
        assert (thanks["step_id"], thanks["channel"], thanks["category"], thanks["topic"]) == (
            "thanks",
            "email",
            "marketing",
            "post-purchase",
        )
        assert (local.hour, local.minute, local.weekday() < 5) == (9, 0, True)
        assert timedelta(days=2) <= thanks["created_at"] - delivered[c] < timedelta(days=5)
        if c == "c04":  # reviewed: woken at the review, done then
            assert [m["step_id"] for m in got] == ["thanks"]
            assert (e["status"], e["exited_at"]) == ("completed", review_at)
            continue
        assert [m["step_id"] for m in got] == ["thanks", "ask", "again"]
        ask, again = got[1], got[2]
        assert ask["created_at"] == thanks["created_at"] + days(7)
        assert ask["variant"] == split.assign(c) == again["variant"]
        assert again["created_at"] == ask["created_at"] + days(60) and again["channel"] == "webhook"
        assert (e["status"], e["step_id"], e["exited_at"]) == ("completed", "done", again["created_at"])

    # The same window scanned again (a worker that crashed before moving the cursor): nobody twice.
    before = store.counts()
    with store.uow() as u:
        u.journeys.set_scanned_until(journey_id, T0 - days(1))
        record = u.journeys.get(journey_id)
    assert record is not None
    again_scan = scan_journey(store.uow, record, clock.now(), overlap=timedelta(days=200))
    assert (
        again_scan is not None and again_scan.candidates == 39 and (again_scan.enrolled, again_scan.held_out) == (0, 0)
    )
    assert store.counts() == before
