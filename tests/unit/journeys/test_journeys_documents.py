"""Journey documents: the documented example parses, documents round-trip, the published schema is
the package's, and the catalogues (action kinds, fact sources, date fields) match the schema and the
data contract. Errors are in test_journeys_errors.py."""

from __future__ import annotations

import json
from datetime import time, timedelta
from pathlib import Path

from journey_helpers import minimal
from jsonschema import Draft202012Validator

from aftersales.core import contract
from aftersales.core.journeys import (
    ACTION_KINDS,
    DATE_FIELDS,
    FACT_SOURCES,
    ActionStep,
    BranchStep,
    EventTrigger,
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

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = Path(__file__).with_name("example.yaml").read_text(encoding="utf-8")


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
    text = (REPO / "docs" / "journey.schema.json").read_text(encoding="utf-8")
    package = (REPO / "src" / "aftersales" / "core" / "journeys" / "schema.json").read_text(encoding="utf-8")
    assert text == package  # byte for byte: docs/journey.schema.json is a copy of the package data
    published = json.loads(text)
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
