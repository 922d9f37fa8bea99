"""Journey documents: the documented example parses, documents round-trip, the published schema is
the package's, and every problem is named at its path (schema and semantic checks alike)."""

from __future__ import annotations

import copy
import json
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from aftersales.core import contract
from aftersales.core.errors import FieldError, ValidationError
from aftersales.core.journeys import (
    ACTION_KINDS,
    DATE_FIELDS,
    FACT_SOURCES,
    ActionStep,
    BranchStep,
    EventTrigger,
    Journey,
    SplitStep,
    WaitForEventStep,
    WaitUntilStep,
    fact_source,
    journey_schema,
    journey_to_doc,
    load_journey_yaml,
    parse_journey,
)
from aftersales.core.journeys.conditions import AllOf, Leaf
from aftersales.core.journeys.graph import cycles

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = Path(__file__).with_name("example.yaml").read_text(encoding="utf-8")


def minimal(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": "j",
        "trigger": {"event": "order.delivered"},
        "steps": [{"id": "hello", "type": "email", "template": "thank-you"}],
    }
    doc.update(overrides)
    return doc


def problems(doc: Any) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        parse_journey(doc)
    return [(e.loc, e.message) for e in caught.value.errors]


def locs(doc: Any) -> list[tuple[str | int, ...]]:
    return [loc for loc, _ in problems(doc)]


# -- the example and the model --------------------------------------------------------------------
def test_the_documented_example_reads_into_the_model() -> None:
    j = load_journey_yaml(EXAMPLE, "example.yaml")
    assert (j.name, j.category, j.topic, j.audience, j.holdout) == (
        "post-purchase-thanks",
        "marketing",
        "post_purchase",
        "vip_at_risk",
        0.1,
    )
    assert isinstance(j.trigger, EventTrigger)
    assert j.trigger.lookback == timedelta(days=7)
    assert j.trigger.where[0].value == ("coffee", "espresso")
    assert j.exit.on_events == ("order.placed",) and j.exit.left_segment
    assert [s.id for s in j.steps] == [
        "settle",
        "morning",
        "thanks",
        "review",
        "nudge",
        "vip",
        "offer",
        "plain",
        "done",
    ]
    morning, thanks, review, nudge, vip = (j.step(i) for i in ("morning", "thanks", "review", "nudge", "vip"))
    assert isinstance(morning, WaitUntilStep) and morning.at == time(9) and morning.days == frozenset(range(5))
    assert (
        isinstance(thanks, ActionStep)
        and thanks.category == "transactional"
        and thanks.params == {"template": "thank-you"}
    )
    assert isinstance(review, WaitForEventStep) and (review.on_event, review.on_timeout) == ("done", "nudge")
    assert isinstance(nudge, BranchStep)
    assert nudge.cases[0].when == AllOf((Leaf("profile.clv_tier", "eq", "above_average"),))
    assert isinstance(vip, SplitStep) and [v.name for v in vip.variants] == ["discount", "plain"]
    assert j.successors(j.steps[7]) == ("done",)  # "plain" falls through to the next step
    assert j.listens_to() == frozenset({"order.placed", "review.submitted"})


def test_defaults_are_filled_in() -> None:
    j = parse_journey(minimal())
    assert (j.category, j.topic, j.audience, j.holdout, j.reentry.mode) == ("marketing", "j", None, 0.1, "never")
    assert (j.goal.event, j.goal.within) == ("order.placed", timedelta(days=30))
    assert (j.exit.on_events, j.exit.on_goal, j.exit.unsubscribed, j.exit.left_segment) == ((), True, True, False)


def test_documents_round_trip_through_json() -> None:
    j = load_journey_yaml(EXAMPLE)
    doc = journey_to_doc(j)
    again = json.loads(json.dumps(doc))
    assert parse_journey(again) == j
    assert journey_to_doc(parse_journey(again)) == doc
    assert Draft202012Validator(journey_schema()).is_valid(doc)


def test_every_date_rule_and_reentry_round_trips() -> None:
    for trigger, reentry in (
        ({"date": {"field": "warranty_ends_on", "offset": "-30d"}}, {"after": "90d"}),
        ({"date": {"rule": "no_order_for", "days": 120}, "lookback": "3d"}, "always"),
        ({"date": {"rule": "subscription_renewal", "offset": "-7d", "cycle": "year"}}, "never"),
    ):
        j = parse_journey(minimal(trigger=trigger, reentry=reentry))
        assert parse_journey(journey_to_doc(j)) == j


def test_durations_are_written_in_their_largest_unit() -> None:
    doc = journey_to_doc(parse_journey(minimal(steps=[{"id": "w", "type": "wait", "duration": "14d"}])))
    assert doc["steps"] == [{"id": "w", "type": "wait", "duration": "2w"}]


def test_the_published_schema_is_the_package_schema_and_valid() -> None:
    published = json.loads((REPO / "docs" / "journey.schema.json").read_text(encoding="utf-8"))
    assert published == journey_schema()
    Draft202012Validator.check_schema(published)
    assert published["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_built_in_action_kind_is_in_the_schema_with_its_fields() -> None:
    defs = journey_schema()["$defs"]
    for kind in ACTION_KINDS.values():
        step = defs[f"{kind.name}_step"]
        assert set(step["required"]) == {"id", "type", *kind.required}
        assert set(step["properties"]) == {"id", "type", "next", "category", "topic", *kind.required, *kind.optional}


def test_fact_sources_name_real_contract_columns() -> None:
    for source in FACT_SOURCES.values():
        columns = {c.name for c in contract.get_table(source.table).columns}
        used = {source.time_column, source.key_column, source.customer_column, *source.properties}
        assert used <= columns, (source.name, used - columns)
    other = fact_source("segment.entered")
    assert (other.table, other.time_column, other.key_column, other.from_json) == (
        "events",
        "occurred_at",
        "event_id",
        True,
    )
    events = {c.name for c in contract.get_table("events").columns}
    assert {"occurred_at", "event_id", "customer_id", "name", "properties"} <= events


def test_date_fields_are_profile_dates() -> None:
    from aftersales.core.segments.fields import FIELDS

    assert all(FIELDS[name].type in ("date", "timestamp") for name in DATE_FIELDS)


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


def test_the_documentation_examples_are_valid() -> None:
    text = (REPO / "docs" / "journeys.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```yaml\n")[1:]]
    assert blocks[0] == EXAMPLE.split("\n", 1)[1]  # the documented example is this suite's example.yaml
    load_journey_yaml(blocks[0], "docs/journeys.md")
    for block in blocks[1:]:
        if block.startswith("trigger:"):
            one_each = not block.splitlines()[1].startswith(" ")  # one trigger per line, or one in all
            for line in block.splitlines() if one_each else [block.rstrip()]:
                load_journey_yaml(f"name: d\n{line}\nsteps: [{{id: x, type: exit}}]\n", "docs/journeys.md")
        elif block.startswith("steps:"):
            load_journey_yaml(f"name: d\ntrigger: {{event: order.placed}}\n{block}", "docs/journeys.md")
        else:
            raise AssertionError(f"an unchecked yaml block in docs/journeys.md: {block[:40]!r}")
