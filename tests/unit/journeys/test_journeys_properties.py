"""Properties of the state machine on random journeys, random clocks and random facts: a position
never moves backward in time, an active one always wakes in the future, a finished one never moves
again, and along one enrollment's run each step yields its effect at most once. Canonical documents
of random journeys round-trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from journey_helpers import facts

from aftersales.core.errors import ValidationError
from aftersales.core.journeys import Journey, Occurrence, advance, journey_to_doc, parse_journey, start

T0 = datetime(2026, 3, 1, tzinfo=UTC)
ZONES = ("UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe")
EVENTS = ("review.submitted", "order.placed", "checkout_started")
DURATIONS = ("30m", "5h", "1d", "2d", "1w")


@st.composite
def step_docs(draw: st.DrawFn, count: int) -> list[dict[str, Any]]:
    """``count`` steps whose targets mostly point forward (sometimes anywhere; invalid ones are discarded)."""
    ids = [f"s{i}" for i in range(count)]

    def target(i: int) -> str | None:
        if draw(st.booleans()):
            return None
        choices = ids[i + 1 :] if draw(st.integers(0, 4)) else ids
        return draw(st.sampled_from(choices)) if choices else None

    steps: list[dict[str, Any]] = []
    for i, sid in enumerate(ids):
        kind = draw(
            st.sampled_from(("wait", "wait_until", "wait_for_event", "branch", "split", "email", "webhook", "exit"))
        )
        step: dict[str, Any] = {"id": sid, "type": kind}
        if kind == "wait":
            step["duration"] = draw(st.sampled_from(DURATIONS))
        elif kind == "wait_until":
            step["at"] = f"{draw(st.integers(0, 23)):02d}:{draw(st.sampled_from((0, 30))):02d}"
            if draw(st.booleans()):
                step["days"] = sorted(
                    draw(st.sets(st.sampled_from(("mon", "tue", "wed", "thu", "fri", "sat", "sun")), min_size=1))
                )
        elif kind == "wait_for_event":
            step.update(event=draw(st.sampled_from(EVENTS)), timeout=draw(st.sampled_from(DURATIONS)))
            for name in ("on_event", "on_timeout"):
                t = target(i)
                if t:
                    step[name] = t
        elif kind == "branch":
            leaf = {"field": draw(st.sampled_from(("profile.x", "event.score", "trigger.y"))), "op": "ge", "value": 5}
            step["cases"] = [{"when": leaf, "next": draw(st.sampled_from(ids))}]
            t = target(i)
            if t:
                step["default"] = t
        elif kind == "split":
            step["variants"] = [{"name": "a", "weight": 1}, {"name": "b", "weight": 2}]
            for v in step["variants"]:
                t = target(i)
                if t:
                    v["next"] = t
        elif kind == "email":
            step["template"] = "t"
        elif kind == "webhook":
            step["url"] = "https://example.com/h"
        if kind in ("wait", "wait_until", "email", "webhook"):
            t = target(i)
            if t:
                step["next"] = t
        steps.append(step)
    return steps


@st.composite
def journeys(draw: st.DrawFn) -> Journey:
    steps = draw(step_docs(draw(st.integers(1, 8))))
    try:
        return parse_journey({"name": "prop", "trigger": {"event": "order.delivered"}, "steps": steps})
    except ValidationError:
        assume(False)
        raise


@st.composite
def runs(draw: st.DrawFn) -> tuple[Journey, str, list[timedelta], list[Occurrence], dict[str, int]]:
    j = draw(journeys())
    zone = draw(st.sampled_from(ZONES))
    gaps = draw(
        st.lists(st.integers(0, 4 * 24 * 60), min_size=1, max_size=25).map(
            lambda xs: [timedelta(minutes=x) for x in xs]
        )
    )
    occurrences = [
        Occurrence(name, T0 + timedelta(minutes=m), f"k{i}", {"score": score})
        for i, (name, m, score) in enumerate(
            draw(
                st.lists(
                    st.tuples(st.sampled_from(EVENTS), st.integers(-600, 60 * 24 * 30), st.integers(0, 10)), max_size=6
                )
            )
        )
    ]
    profile = {"x": draw(st.integers(0, 10))}
    return j, zone, gaps, occurrences, profile


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(runs())
def test_positions_move_forward_and_effects_happen_once(
    run: tuple[Journey, str, list[timedelta], list[Occurrence], dict[str, int]],
) -> None:
    j, zone, gaps, occurrences, profile = run
    position = start(j, T0)
    now = T0
    acted: list[str] = []
    for gap in gaps:
        now += gap
        known = [o for o in occurrences if o.occurred_at <= now]
        f = facts(now, zone=ZoneInfo(zone), entered_at=T0, occurrences=known, profile=profile, trigger={"y": 7})
        decision = advance(j, position, f)
        new = decision.position
        if position.status != "active":
            assert new == position and decision.effects == ()
        if position.step_started_at is not None and new.step_started_at is not None:
            assert new.step_started_at >= position.step_started_at
        if new.step_started_at is not None:
            assert new.step_started_at <= now
        if new.status == "active":
            assert new.wake_at is not None and new.wake_at > now
        else:
            assert new.wake_at is None
        assert set(position.variants.items()) <= set(new.variants.items())  # variants are never reassigned
        acted.extend(e.step_id for e in decision.effects)
        position = new
    assert len(acted) == len(set(acted))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(journeys())
def test_canonical_documents_round_trip(j: Journey) -> None:
    doc = journey_to_doc(j)
    assert parse_journey(doc) == j
    assert journey_to_doc(parse_journey(doc)) == doc
