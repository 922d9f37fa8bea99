"""Exit rules (checked before every step), editing a journey under running enrollments, and the
holdout and split shares."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from journey_helpers import T0, Driver, facts, ids, journey, occ

from aftersales.core.experiments.assignment import HoldoutGroup
from aftersales.core.journeys import Position, advance, exit_reason, holdout, parse_journey, start

D = timedelta(days=1)
STEPS = (
    {"id": "settle", "type": "wait", "duration": "2d"},
    {"id": "first", "type": "email", "template": "first"},
    {"id": "pause", "type": "wait", "duration": "5d"},
    {"id": "second", "type": "email", "template": "second"},
)


def waiting_driver(**top: object) -> Driver:
    d = Driver(journey(*STEPS, **top))
    d.at(T0)
    return d


@pytest.mark.parametrize(
    ("event", "top", "reason"),
    [
        ("order.placed", {}, "goal"),
        ("checkout_started", {"exit": {"on_events": ["checkout_started"]}}, "event checkout_started"),
        ("order.placed", {"exit": {"on_goal": False, "on_events": ["order.placed"]}}, "event order.placed"),
    ],
)
def test_goal_and_exit_events_end_the_enrollment_before_any_step(
    event: str, top: dict[str, object], reason: str
) -> None:
    d = waiting_driver(**top)
    d.occurrences.append(occ(event, T0 + D))
    decision = d.at(T0 + 2 * D)  # the wait is over, but the exit comes first: nothing is sent
    assert decision.effects == () and decision.visited == ()
    assert decision.position == Position("settle", "exited", None, T0, {}, reason)


def test_events_that_do_not_count_as_exits() -> None:
    d = waiting_driver(goal={"event": "order.placed", "within": "1d"}, exit={"on_goal": True})
    d.occurrences += [occ("order.placed", T0), occ("order.placed", T0 + 2 * D), occ("order.returned", T0 + D)]
    # at entry (not after it), after the goal window, and an event nobody listens to
    assert [e.step_id for e in d.at(T0 + 2 * D).effects] == ["first"]
    d2 = waiting_driver(exit={"on_goal": False})
    d2.occurrences.append(occ("order.placed", T0 + D))
    assert [e.step_id for e in d2.at(T0 + 2 * D).effects] == ["first"]
    d3 = waiting_driver()
    d3.occurrences.append(occ("order.placed", T0 + 3 * D))  # in the future of this advance
    assert [e.step_id for e in d3.at(T0 + 2 * D).effects] == ["first"]


def test_the_earliest_exit_event_names_the_reason() -> None:
    j = journey(*STEPS, exit={"on_events": ["ticket.created"]})
    f = facts(T0 + 2 * D, occurrences=[occ("order.placed", T0 + D + timedelta(hours=2)), occ("ticket.created", T0 + D)])
    assert exit_reason(j, f) == "event ticket.created"


def test_unsubscribed_and_left_segment() -> None:
    d = waiting_driver()
    assert d.at(T0 + D, unsubscribed=True).position.exit_reason == "unsubscribed"
    kept = waiting_driver(exit={"unsubscribed": False})
    assert kept.at(T0 + 2 * D, unsubscribed=True).position.status == "active"
    seg = waiting_driver(audience="vip", exit={"left_segment": True})
    assert seg.at(T0 + D, in_audience=None).position.status == "active"  # unknown: stays
    assert seg.at(T0 + D, in_audience=True).position.status == "active"
    assert seg.at(T0 + D, in_audience=False).position.exit_reason == "left segment"
    stay = waiting_driver(audience="vip")  # left_segment defaults to false
    assert stay.at(T0 + D, in_audience=False).position.status == "active"


def test_consent_revoked_mid_journey_stops_the_next_marketing_send() -> None:
    from zoneinfo import ZoneInfo

    from aftersales.core.journeys import SendPolicy, decide_send

    policy = SendPolicy(None, 0, timedelta(0))
    d = waiting_driver()
    sent = []
    for day, consent in ((2, True), (7, False)):
        now = T0 + day * D
        for effect in d.at(now).effects:
            decision = decide_send(
                policy,
                category=effect.category,
                now=now,
                zone=ZoneInfo("UTC"),
                recent_marketing_sends=[],
                consent=consent,
                suppressed=False,
                queued_at=now,
            )
            sent.append((effect.step_id, decision.action, decision.reason))
    assert sent == [("first", "send", None), ("second", "skip", "no consent")]


# -- editing ----------------------------------------------------------------------------------------
def test_a_new_version_keeping_the_step_continues_with_its_new_definition() -> None:
    d = waiting_driver()
    d.at(T0 + 2 * D)  # sent "first", now waiting 5 days at "pause"
    assert d.position is not None and d.position.wake_at == T0 + 7 * D
    edited = journey(
        {"id": "settle", "type": "wait", "duration": "2d"},
        {"id": "first", "type": "email", "template": "first"},
        {"id": "pause", "type": "wait", "duration": "3d"},  # shortened
        {"id": "extra", "type": "email", "template": "extra"},
    )
    d.journey = edited
    woken = d.at(T0 + 4 * D)
    assert woken.position.wake_at == T0 + 5 * D and woken.effects == ()
    done = d.at(T0 + 5 * D)
    assert [e.step_id for e in done.effects] == ["extra"]  # "first" is not sent again
    assert [step for step, _ in d.sent()] == ["first", "extra"]


def test_a_new_version_without_the_step_exits_the_enrollment() -> None:
    d = waiting_driver()
    d.at(T0 + 2 * D)
    d.journey = journey(
        {"id": "settle", "type": "wait", "duration": "2d"}, {"id": "first", "type": "email", "template": "first"}
    )
    decision = d.at(T0 + 7 * D)
    assert decision.position.status == "exited" and decision.position.exit_reason == "step removed"
    assert decision.position.step_id == "pause" and decision.effects == ()


def test_positions_that_are_not_active_do_not_move() -> None:
    j = journey(*STEPS)
    for position in (
        Position("first", "completed", None, T0, {}, None),
        Position("settle", "exited", None, T0, {}, "goal"),
    ):
        assert advance(j, position, facts(T0 + 30 * D)).position == position


# -- holdout and split shares -----------------------------------------------------------------------
def six_sigma(n: int, p: float) -> float:
    return 6 * math.sqrt(p * (1 - p) / n)


def test_holdout_share_is_the_configured_fraction_and_sticky() -> None:
    j = journey(*STEPS, holdout=0.1)
    customers = list(ids(10_000))
    held = [holdout(j, "salt-1", c) for c in customers]
    share = sum(held) / len(held)
    assert abs(share - 0.1) < six_sigma(10_000, 0.1)
    assert held == [holdout(j, "salt-1", c) for c in customers]  # sticky: the same answer every time
    assert held == list(HoldoutGroup("j", 0.1, "salt-1").contains_many(customers))
    other_salt = [holdout(j, "salt-2", c) for c in customers]
    assert other_salt != held and abs(sum(other_salt) / 10_000 - 0.1) < six_sigma(10_000, 0.1)
    none_held = journey(*STEPS, holdout=0)
    assert not any(holdout(none_held, "salt-1", c) for c in customers)


def test_split_shares_follow_the_weights_and_are_independent_of_the_holdout() -> None:
    j = parse_journey(
        {
            "name": "winback",
            "trigger": {"event": "order.delivered"},
            "holdout": 0.2,
            "steps": [
                {
                    "id": "ab",
                    "type": "split",
                    "variants": [{"name": "a", "weight": 3, "next": "m"}, {"name": "b", "weight": 1, "next": "m"}],
                },
                {"id": "m", "type": "email", "template": "t"},
            ],
        }
    )
    customers = list(ids(10_000))
    variants = [advance(j, start(j, T0), facts(T0, customer_id=c, salt="s")).position.variants["ab"] for c in customers]
    share_a = variants.count("a") / len(variants)
    assert abs(share_a - 0.75) < six_sigma(10_000, 0.75)
    held = [holdout(j, "s", c) for c in customers]
    in_holdout_a = [v for v, h in zip(variants, held, strict=True) if h].count("a") / sum(held)
    assert abs(in_holdout_a - 0.75) < six_sigma(sum(held), 0.75)  # the split is not skewed by the holdout
    again = [
        advance(j, start(j, T0), facts(T0, customer_id=c, salt="s")).position.variants["ab"] for c in customers[:500]
    ]
    assert again == variants[:500]
