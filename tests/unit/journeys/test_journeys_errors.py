"""Every problem in a journey document is named at its path: the schema's (all listed at once) and
then the semantic checks' (ids, targets, cycles, action kinds, limits); the message lists them."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from journey_helpers import locs, minimal, problems

from aftersales.core.errors import FieldError, ValidationError
from aftersales.core.journeys import ACTION_KINDS, ActionStep, Journey, journey_to_doc, parse_journey
from aftersales.core.journeys.graph import cycles


# -- schema errors name paths ---------------------------------------------------------------------
def test_schema_errors_are_all_listed_at_their_paths() -> None:
    doc = {
        "name": "Bad Name",
        "trigger": {},
        "holdout": 1,
        "surprise": True,
        "steps": [
            {"id": "a", "type": "wait"},
            {"id": "b", "type": "email", "templat": "x"},
            {"id": "c", "type": "split", "variants": [{"name": "a", "weight": 0}]},
            {"id": "d", "type": "wait", "duration": "2 days"},
        ],
    }
    found = dict(problems(doc))
    assert list(found) == [
        ("holdout",),
        ("name",),
        ("steps", 0, "duration"),
        ("steps", 1, "templat"),
        ("steps", 1, "template"),
        ("steps", 2, "variants"),
        ("steps", 2, "variants", 0, "weight"),
        ("steps", 3, "duration"),
        ("surprise",),
        ("trigger",),
    ]
    assert found[("steps", 0, "duration")] == "required field is missing"
    assert found[("steps", 3, "duration")].startswith("'2 days' is not a positive duration")
    assert found[("trigger",)] == "a trigger needs event or date"
    assert found[("holdout",)] == "must be less than 1"
    assert "expected one of" in found[("surprise",)]


@pytest.mark.parametrize(
    ("change", "loc", "message"),
    [
        ({"steps": [{"id": "w", "type": "wait", "duration": "2x"}]}, ("steps", 0, "duration"), "is not a positive"),
        ({"steps": [{"id": "w", "type": "wait_until", "at": "25:00"}]}, ("steps", 0, "at"), "wall-clock time"),
        (
            {"steps": [{"id": "w", "type": "wait_until", "at": "9:00", "days": ["mon", "xx"]}]},
            ("steps", 0, "days", 1),
            "not one of",
        ),
        ({"trigger": {"event": "a", "date": {"field": "warranty_ends_on"}}}, ("trigger",), "not both"),
        ({"trigger": {"date": {"field": "warranty_ends_on"}, "where": []}}, ("trigger",), "event triggers only"),
        ({"trigger": {"date": {"rule": "no_order_for"}}}, ("trigger", "date", "days"), "required"),
        (
            {"trigger": {"event": "a", "where": [{"property": "p", "op": "is_null", "value": 1}]}},
            ("trigger", "where", 0),
            "no value",
        ),
        (
            {"trigger": {"event": "a", "where": [{"property": "p", "op": "in", "value": 3}]}},
            ("trigger", "where", 0, "value"),
            "a list",
        ),
        ({"reentry": {"after": "0d"}}, ("reentry", "after"), "positive duration"),
        ({"reentry": "sometimes"}, ("reentry",), "not one of"),
        ({"category": "promo"}, ("category",), "not one of: marketing, transactional"),
        ({"steps": []}, ("steps",), "at least 1"),
        (
            {
                "steps": [
                    {
                        "id": "b",
                        "type": "branch",
                        "cases": [{"when": {"field": "customer.x", "op": "is_null"}, "next": "b"}],
                    }
                ]
            },
            ("steps", 0, "cases", 0, "when", "field"),
            "profile.<name>, trigger.<property> or event.<property>",
        ),
        (
            {"steps": [{"id": "b", "type": "branch", "cases": [{"when": {"all": []}, "next": "b"}]}]},
            ("steps", 0, "cases", 0, "when", "all"),
            "at least 1",
        ),
        ({"steps": [{"id": "x", "type": "exit", "next": "x"}]}, ("steps", 0, "next"), "unknown field"),
        ({"steps": [{"id": "x", "type": "webhook", "url": "ftp://x"}]}, ("steps", 0, "url"), "http:// or https://"),
    ],
)
def test_each_schema_rule_names_its_path(change: dict[str, Any], loc: tuple[str | int, ...], message: str) -> None:
    found = problems(minimal(**change))
    assert any(where == loc and message in m for where, m in found), found


def test_a_document_that_is_not_an_object_or_too_deep_is_refused() -> None:
    assert problems(["name"]) == [((), "a journey document is an object (name, trigger, steps, ...)")]  # type: ignore[arg-type]
    deep: dict[str, Any] = {"field": "profile.x", "op": "is_null"}
    for _ in range(60):
        deep = {"not": deep}
    doc = minimal(steps=[{"id": "b", "type": "branch", "cases": [{"when": deep, "next": "b"}]}])
    assert problems(doc) == [((), "the document nested deeper than 40 levels")]


# -- semantic errors ------------------------------------------------------------------------------
def test_semantic_errors_are_all_listed_at_their_paths() -> None:
    doc = minimal(
        steps=[
            {
                "id": "a",
                "type": "branch",
                "cases": [{"when": {"field": "profile.x", "op": "in", "value": [3]}, "next": "zz"}],
            },
            {"id": "a", "type": "wait", "duration": "99999999w", "next": "b"},
            {"id": "b", "type": "survey", "survey": "nps"},
            {"id": "c", "type": "split", "variants": [{"name": "x", "next": "bb"}, {"name": "x"}]},
        ]
    )
    assert problems(doc) == [
        (("steps", 0, "cases", 0, "next"), "no step has the id 'zz'"),
        (("steps", 1, "duration"), "'99999999w' is too long: durations are at most 100 years (36500d)"),
        (("steps", 1, "id"), "step id 'a' is used twice (first by steps/0)"),
        (
            ("steps", 2, "type"),
            "unknown step type 'survey' (known: branch, email, exit, split, wait, wait_for_event, wait_until, webhook)",
        ),
        (("steps", 3, "variants", 0, "next"), "no step has the id 'bb'; did you mean 'b'?"),
        (("steps", 3, "variants", 1, "name"), "variant 'x' is named twice (first at variants/0)"),
    ]


def test_targets_of_every_kind_are_checked() -> None:
    doc = minimal(
        steps=[
            {
                "id": "w",
                "type": "wait_for_event",
                "event": "review.submitted",
                "timeout": "7d",
                "on_event": "nope",
                "on_timeout": "gone",
            },
            {
                "id": "b",
                "type": "branch",
                "cases": [{"when": {"field": "event.score", "op": "ge", "value": 9}, "next": "w"}],
                "default": "lost",
            },
            {"id": "e", "type": "email", "template": "t", "next": "missing"},
        ]
    )
    assert locs(doc) == [
        ("steps", 0, "on_event"),
        ("steps", 0, "on_timeout"),
        ("steps", 1, "default"),
        ("steps", 2, "next"),
    ]


def test_cycles_need_a_wait_and_no_action() -> None:
    doc = minimal(
        steps=[
            {
                "id": "a",
                "type": "branch",
                "cases": [{"when": {"field": "profile.x", "op": "is_null"}, "next": "b"}],
                "default": "a",
            },
            {"id": "b", "type": "email", "template": "t", "next": "c"},
            {"id": "c", "type": "wait", "duration": "1d", "next": "b"},
        ]
    )
    assert problems(doc) == [
        (("steps", 0), "the cycle a -> a has no wait step (wait, wait_until or wait_for_event)"),
        (
            ("steps", 1),
            "the cycle b -> c -> b holds action step(s) b: each step acts once per enrollment, "
            "so a loop cannot repeat it",
        ),
    ]


def test_a_polling_loop_with_a_wait_is_allowed() -> None:
    doc = minimal(
        steps=[
            {
                "id": "check",
                "type": "branch",
                "cases": [{"when": {"field": "profile.p_alive", "op": "lt", "value": 0.5}, "next": "mail"}],
            },
            {"id": "later", "type": "wait", "duration": "1d", "next": "check"},
            {"id": "mail", "type": "email", "template": "winback"},
        ]
    )
    j = parse_journey(doc)
    assert cycles(j) == [["check", "later"]]


def test_left_segment_needs_an_audience_and_date_fields_are_known() -> None:
    doc = minimal(exit={"left_segment": True}, trigger={"date": {"field": "warranty_end", "offset": "-30d"}})
    found = dict(problems(doc))
    assert list(found) == [("exit", "left_segment"), ("trigger", "date", "field")]
    assert "warranty_ends_on" in found[("trigger", "date", "field")]


def test_a_registered_action_kind_is_checked_by_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    from aftersales.core.journeys.model import ActionKind

    monkeypatch.setitem(ACTION_KINDS, "points", ActionKind("points", "loyalty", ("amount",), ("reason",)))
    ok = parse_journey(minimal(steps=[{"id": "p", "type": "points", "amount": 50, "reason": "thanks"}]))
    step = ok.steps[0]
    assert isinstance(step, ActionStep) and step.params == {"amount": 50, "reason": "thanks"}
    assert problems(minimal(steps=[{"id": "p", "type": "points", "amont": 5}])) == [
        (("steps", 0, "amont"), "unknown field (expected one of: amount, category, id, next, reason, topic, type)"),
        (("steps", 0, "amount"), "required field is missing (a points step needs amount)"),
    ]


def test_the_message_lists_problems_and_the_errors_are_field_errors() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_journey(minimal(holdout=-1, category="x"))
    assert str(caught.value) == (
        "invalid journey: category: 'x' is not one of: marketing, transactional; holdout: must be at least 0"
    )
    assert all(isinstance(e, FieldError) for e in caught.value.errors)


def test_parse_does_not_share_mutable_state_with_the_document() -> None:
    doc = minimal(steps=[{"id": "h", "type": "webhook", "url": "https://x.test/h", "payload": {"a": [1]}}])
    original = copy.deepcopy(doc)
    j: Journey = parse_journey(doc)
    doc["steps"][0]["payload"]["a"].append(2)
    step = j.steps[0]
    assert isinstance(step, ActionStep) and step.params["payload"] == {"a": [1]}
    assert journey_to_doc(j)["steps"][0] == original["steps"][0]
