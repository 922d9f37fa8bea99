"""The state machine on a fake clock, one step kind at a time: advance repeatedly with increasing
``now`` and check the position, the effects and ``wake_at`` after each advance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from journey_helpers import T0, Driver, facts, journey, occ

from aftersales.core.errors import ValidationError
from aftersales.core.journeys import Effect, Position, advance, start

H, D = timedelta(hours=1), timedelta(days=1)
MAIL = {"id": "mail", "type": "email", "template": "thanks"}


def test_start_is_due_now_at_the_first_step() -> None:
    j = journey({"id": "w", "type": "wait", "duration": "2d"}, MAIL)
    assert start(j, T0) == Position("w", "active", T0, None, {}, None)
    with pytest.raises(ValidationError):
        start(j, datetime(2026, 1, 1))


def test_wait_wakes_after_its_duration_from_the_step_start() -> None:
    d = Driver(journey({"id": "w", "type": "wait", "duration": "2d"}, MAIL))
    first = d.at(T0 + H)  # a worker one hour late: the wait starts when it is reached
    assert first.position == Position("w", "active", T0 + H + 2 * D, T0 + H, {}, None)
    assert first.effects == () and first.visited == ("w",)
    early = d.at(T0 + D)
    assert early.position == first.position and early.effects == ()
    done = d.at(T0 + H + 2 * D)
    assert done.effects == (Effect("mail", "email", {"template": "thanks"}, "marketing", "j", None),)
    assert done.position == Position("mail", "completed", None, T0 + H + 2 * D, {}, None)
    assert done.visited == ("w", "mail")
    assert d.at(T0 + 10 * D).effects == ()  # a completed enrollment stays as it is


def test_wait_until_the_customers_wall_clock_on_allowed_days() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    j = journey(
        {"id": "morning", "type": "wait_until", "at": "09:00", "days": ["mon", "tue", "wed", "thu", "fri"]}, MAIL
    )
    saturday = datetime(2026, 6, 6, 12, 0, tzinfo=UTC)
    d = Driver(j, entered_at=saturday, fact_kw={"zone": berlin})
    monday_9 = datetime(2026, 6, 8, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert d.at(saturday).position.wake_at == monday_9
    assert d.at(datetime(2026, 6, 7, 7, 0, tzinfo=UTC)).effects == ()  # Sunday 09:00: not an allowed day
    assert d.at(monday_9 - timedelta(seconds=1)).effects == ()
    assert [e.step_id for e in d.at(monday_9).effects] == ["mail"]


@pytest.mark.parametrize(
    ("zone", "entered", "expected"),
    [
        # Berlin springs forward on 2026-03-29 at 01:00 UTC: 09:00 that day is CEST, 07:00 UTC.
        ("Europe/Berlin", datetime(2026, 3, 28, 12, 0, tzinfo=UTC), datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),
        # Berlin falls back on 2026-10-25 at 01:00 UTC: 09:00 that day is CET, 08:00 UTC.
        ("Europe/Berlin", datetime(2026, 10, 24, 12, 0, tzinfo=UTC), datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),
        # New York springs forward on 2026-03-08: 09:00 EDT is 13:00 UTC (the day before: 14:00 UTC).
        ("America/New_York", datetime(2026, 3, 7, 15, 0, tzinfo=UTC), datetime(2026, 3, 8, 13, 0, tzinfo=UTC)),
        # New York falls back on 2026-11-01: 09:00 EST is 14:00 UTC.
        ("America/New_York", datetime(2026, 11, 1, 0, 0, tzinfo=UTC), datetime(2026, 11, 1, 14, 0, tzinfo=UTC)),
    ],
)
def test_wait_until_across_daylight_saving_changes(zone: str, entered: datetime, expected: datetime) -> None:
    d = Driver(journey({"id": "nine", "type": "wait_until", "at": "09:00"}, MAIL), entered_at=entered)
    d.fact_kw["zone"] = ZoneInfo(zone)
    assert d.at(entered).position.wake_at == expected
    assert d.at(expected).effects[0].step_id == "mail"


WAIT_REVIEW = {
    "id": "review",
    "type": "wait_for_event",
    "event": "review.submitted",
    "timeout": "7d",
    "on_event": "thanks",
    "on_timeout": "nudge",
}
AFTER_REVIEW = (
    WAIT_REVIEW,
    {"id": "nudge", "type": "email", "template": "nudge", "next": "end"},
    {"id": "thanks", "type": "email", "template": "thanks"},
    {"id": "end", "type": "exit"},
)


def test_wait_for_event_moves_on_when_the_event_arrives() -> None:
    d = Driver(journey(*AFTER_REVIEW))
    entry = d.at(T0)
    assert entry.position == Position("review", "active", T0 + 7 * D, T0, {}, None)
    assert d.at(T0 + D).effects == ()
    d.occurrences.append(occ("review.submitted", T0 + 2 * D, score=5))
    woken = d.at(T0 + 2 * D + H)  # the runtime wakes it early when the event arrives
    assert [e.step_id for e in woken.effects] == ["thanks"]
    assert woken.position.status == "completed" and woken.visited == ("review", "thanks", "end")


def test_wait_for_event_times_out() -> None:
    d = Driver(journey(*AFTER_REVIEW))
    d.at(T0)
    assert d.at(T0 + 7 * D - timedelta(seconds=1)).effects == ()
    timed_out = d.at(T0 + 7 * D)
    assert [e.step_id for e in timed_out.effects] == ["nudge"]
    assert timed_out.position == Position("end", "completed", None, T0 + 7 * D, {}, None)


def test_wait_for_event_counts_only_events_from_its_start_to_its_timeout() -> None:
    before = occ("review.submitted", T0 - H)  # before the step began: not an answer
    other = occ("ticket.created", T0 + H)
    late = occ("review.submitted", T0 + 8 * D)  # after the timeout, seen by a late worker
    d = Driver(journey(*AFTER_REVIEW), occurrences=[before, other, late])
    d.at(T0)
    assert d.at(T0 + 9 * D).effects[0].step_id == "nudge"
    on_time = Driver(journey(*AFTER_REVIEW), occurrences=[occ("review.submitted", T0 + 7 * D)])
    on_time.at(T0)
    assert on_time.at(T0 + 9 * D).effects[0].step_id == "thanks"  # at the timeout instant: still in time


def test_an_early_wake_keeps_the_timeout() -> None:
    d = Driver(journey(*AFTER_REVIEW))
    d.at(T0)
    assert d.position is not None
    d.position = Position("review", "active", T0 + D, T0, {}, None)  # the runtime set wake_at = now
    again = d.at(T0 + D)
    assert again.position.wake_at == T0 + 7 * D and again.effects == ()


def test_wait_for_event_filters_and_falls_through() -> None:
    step = {**WAIT_REVIEW, "where": [{"property": "score", "op": "ge", "value": 4}]}
    del step["on_event"], step["on_timeout"]
    d = Driver(journey(step, MAIL), occurrences=[occ("review.submitted", T0 + H, score=2)])
    d.at(T0)
    assert d.at(T0 + D).effects == ()
    d.occurrences.append(occ("review.submitted", T0 + 2 * D, score=5))
    assert [e.step_id for e in d.at(T0 + 2 * D).effects] == ["mail"]


def test_branch_on_profile_trigger_and_event_fields() -> None:
    j = journey(
        {**WAIT_REVIEW, "on_event": "route", "on_timeout": "route"},
        {
            "id": "route",
            "type": "branch",
            "cases": [
                {"when": {"field": "event.score", "op": "le", "value": 6}, "next": "sorry"},
                {
                    "when": {
                        "all": [
                            {"field": "profile.clv_tier", "op": "eq", "value": "above_average"},
                            {"field": "trigger.category", "op": "in", "value": ["coffee"]},
                        ]
                    },
                    "next": "vip",
                },
            ],
            "default": "plain",
        },
        {"id": "sorry", "type": "email", "template": "sorry", "next": "end"},
        {"id": "vip", "type": "email", "template": "vip", "next": "end"},
        {"id": "plain", "type": "email", "template": "plain"},
        {"id": "end", "type": "exit"},
    )

    def route(profile: dict[str, object], trigger: dict[str, object], score: int | None) -> str:
        d = Driver(j, fact_kw={"profile": profile, "trigger": trigger})
        if score is not None:
            d.occurrences.append(occ("review.submitted", T0 + D, score=score))
        d.at(T0)
        return d.at(T0 + 8 * D).effects[0].step_id

    vip, coffee = {"clv_tier": "above_average"}, {"category": "coffee"}
    assert route(vip, coffee, 3) == "sorry"
    assert route(vip, coffee, 9) == "vip"
    assert route(vip, coffee, None) == "vip"  # timed out: event.* fields are null
    assert route(vip, {"category": "tea"}, 9) == "plain"
    assert route({}, coffee, None) == "plain"


def test_a_branch_without_default_falls_through() -> None:
    j = journey(
        {
            "id": "b",
            "type": "branch",
            "cases": [{"when": {"field": "profile.x", "op": "eq", "value": 1}, "next": "two"}],
        },
        {"id": "one", "type": "email", "template": "one", "next": "end"},
        {"id": "two", "type": "email", "template": "two"},
        {"id": "end", "type": "exit"},
    )
    assert [e.step_id for e in advance(j, start(j, T0), facts(T0)).effects] == ["one"]
    assert [e.step_id for e in advance(j, start(j, T0), facts(T0, profile={"x": 1})).effects] == ["two"]


SPLIT = {
    "id": "ab",
    "type": "split",
    "variants": [{"name": "discount", "weight": 1, "next": "offer"}, {"name": "plain", "weight": 1, "next": "plain"}],
}
SPLIT_STEPS = (
    SPLIT,
    {"id": "offer", "type": "email", "template": "offer", "next": "end"},
    {"id": "plain", "type": "email", "template": "plain"},
    {"id": "end", "type": "exit"},
)


def test_split_assigns_by_the_experiment_and_remembers_the_variant() -> None:
    from aftersales.core.experiments.assignment import Experiment

    j = journey(*SPLIT_STEPS)
    for customer in ("c1", "c2", "c3", "c4", "c5", "c6"):
        expected = Experiment("j:ab", ("discount", "plain"), (1, 1), salt="salt-1").assign(customer)
        decision = advance(j, start(j, T0), facts(T0, customer_id=customer))
        assert decision.position.variants == {"ab": expected}
        (effect,) = decision.effects
        assert effect.step_id == ("offer" if expected == "discount" else "plain") and effect.variant == expected


def test_a_remembered_variant_wins_over_the_hash() -> None:
    j = journey(*SPLIT_STEPS)
    for remembered in ("discount", "plain"):
        position = Position("ab", "active", T0, None, {"ab": remembered}, None)
        decision = advance(j, position, facts(T0))
        assert decision.position.variants == {"ab": remembered}
        assert decision.effects[0].variant == remembered


def test_actions_yield_effects_with_their_fields_category_and_topic() -> None:
    j = journey(
        {"id": "mail", "type": "email", "template": "care", "category": "transactional", "topic": "care"},
        {"id": "hook", "type": "webhook", "url": "https://crm.example.com/h", "payload": {"tag": "vip"}},
        category="marketing",
        topic="post_purchase",
    )
    decision = advance(j, start(j, T0), facts(T0))
    assert decision.effects == (
        Effect("mail", "email", {"template": "care"}, "transactional", "care", None),
        Effect(
            "hook",
            "webhook",
            {"url": "https://crm.example.com/h", "payload": {"tag": "vip"}},
            "marketing",
            "post_purchase",
            None,
        ),
    )
    assert decision.position == Position("hook", "completed", None, T0, {}, None)
    params = decision.effects[1].params
    assert isinstance(params, dict) and isinstance(params["payload"], dict)  # plain JSON-ready values


def test_exit_step_completes_and_skips_the_rest() -> None:
    j = journey({"id": "end", "type": "exit"}, MAIL)
    decision = advance(j, start(j, T0), facts(T0))
    assert decision.position == Position("end", "completed", None, T0, {}, None) and decision.effects == ()


def test_a_loop_at_one_instant_is_stopped() -> None:
    # wait_until at the very minute it is reached passes at once; a branch sends it back: the guard stops it.
    j = journey(
        {"id": "tick", "type": "wait_until", "at": "10:00"},
        {"id": "again", "type": "branch", "cases": [{"when": {"field": "profile.x", "op": "is_null"}, "next": "tick"}]},
        MAIL,
    )
    decision = advance(j, start(j, T0), facts(T0))
    assert decision.position.status == "exited" and decision.position.exit_reason == "loop"
    assert len(decision.visited) == 100 and decision.effects == ()
    later = advance(j, start(j, T0), facts(T0, profile={"x": 1}))
    assert [e.step_id for e in later.effects] == ["mail"]


def test_naive_times_are_refused() -> None:
    j = journey(MAIL)
    with pytest.raises(ValidationError):
        advance(j, start(j, T0), facts(datetime(2026, 6, 1)))
