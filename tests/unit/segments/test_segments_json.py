"""The JSON form of segments: the documented shapes and errors at JSON paths; type checks of Python-built ASTs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from aftersales.core.errors import ValidationError
from aftersales.core.segments.ast import (
    And,
    Between,
    BoolField,
    Compare,
    Duration,
    EventOccurred,
    InList,
    IsNull,
    NoOrderFor,
    Not,
    Now,
    Or,
    Ordered,
    Owns,
)
from aftersales.core.segments.check import DefinitionError, validate
from aftersales.core.segments.json_form import from_json, to_json
from aftersales.core.segments.text import parse

DAY = 86400


def test_documented_example_reads_as_the_text_form() -> None:
    doc = {
        "all": [
            {"field": "clv_tier", "op": "=", "value": "above_average"},
            {"field": "churn_risk", "op": "in", "value": ["high", "medium"]},
            {"field": "email_consent"},
            {"not": {"event": {"name": "checkout_completed", "within": {"days": 7}}}},
            {"any": [{"ordered": {"category": "bikes", "within": {"weeks": 2}}}, {"owns": {"product": "P1"}}]},
        ]
    }
    text = (
        "clv_tier = 'above_average' and churn_risk in ('high', 'medium') and email_consent"
        " and not event('checkout_completed', within = 7 days)"
        " and (ordered(category = 'bikes', within = 14 days) or owns('P1'))"
    )
    assert from_json(doc) == parse(text)


@pytest.mark.parametrize(
    ("node", "doc"),
    [
        (IsNull("country", negated=True), {"field": "country", "op": "is not null"}),
        (Between("orders", 1, 2.5), {"field": "orders", "op": "between", "value": [1, 2.5]}),
        (InList("country", ("DE",), negated=True), {"field": "country", "op": "not in", "value": ["DE"]}),
        (
            Compare("last_order_at", "<", Now(-90 * DAY)),
            {"field": "last_order_at", "op": "<", "value": {"now": {"days": -90}}},
        ),
        (Compare("last_order_at", ">=", Now()), {"field": "last_order_at", "op": ">=", "value": {"now": {"days": 0}}}),
        (
            Compare("last_order_at", ">=", Now(5400)),
            {"field": "last_order_at", "op": ">=", "value": {"now": {"minutes": 90}}},
        ),
        (
            Compare("warranty_ends_on", "=", date(2024, 2, 29)),
            {"field": "warranty_ends_on", "op": "=", "value": {"date": "2024-02-29"}},
        ),
        (
            Compare("first_order_at", "<", datetime(2024, 1, 1, 6, tzinfo=UTC)),
            {"field": "first_order_at", "op": "<", "value": {"timestamp": "2024-01-01T06:00:00+00:00"}},
        ),
        (Ordered(at_least=2), {"ordered": {"at_least": 2}}),
        (NoOrderFor(Duration(120 * DAY)), {"no_order_for": {"duration": {"days": 120}}}),
        (EventOccurred("x", Duration(3600)), {"event": {"name": "x", "within": {"hours": 1}}}),
        (Owns("P1"), {"owns": {"product": "P1"}}),
        (
            Not(Or((BoolField("sms_consent"), BoolField("email_consent")))),
            {"not": {"any": [{"field": "sms_consent"}, {"field": "email_consent"}]}},
        ),
    ],
)
def test_shapes(node: Any, doc: dict[str, Any]) -> None:
    assert to_json(node) == doc
    assert from_json(doc) == node


def test_a_group_of_one_is_its_condition_and_nulls_mean_not_given() -> None:
    assert from_json({"all": [{"field": "email_consent"}]}) == BoolField("email_consent")
    assert from_json({"ordered": {"category": None, "within": None}}) == Ordered()
    stamp = {"field": "last_order_at", "op": "<", "value": {"timestamp": "2024-01-01T07:00:00+01:00"}}
    assert from_json(stamp) == Compare("last_order_at", "<", datetime(2024, 1, 1, 6, tzinfo=UTC))


def _eq(field: str, value: object) -> dict[str, object]:
    return {"field": field, "op": "=", "value": value}


def _error(doc: object) -> DefinitionError:
    with pytest.raises(DefinitionError) as info:
        from_json(doc)
    return info.value


@pytest.mark.parametrize(
    ("doc", "loc", "fragment"),
    [
        ([], ("definition",), "expected a condition object"),
        ({"all": []}, ("definition", "all"), "non-empty list"),
        ({"all": [{"field": "sms_consent"}, {"sometimes": 1}]}, ("definition", "all", 1), "unknown key 'sometimes'"),
        ({"all": [], "any": []}, ("definition",), "exactly one key"),
        ({"field": "orders", "op": "~", "value": 1}, ("definition", "op"), "unknown op '~'"),
        ({"field": "orders", "op": ">"}, ("definition",), "'>' needs a value"),
        ({"field": "orders", "op": "is null", "value": 1}, ("definition", "value"), "takes no value"),
        ({"field": "orders", "op": "in", "value": []}, ("definition", "value"), "non-empty list"),
        ({"field": "orders", "op": "between", "value": [1]}, ("definition", "value"), "[low, high]"),
        ({"field": "orders", "op": "=", "value": [1]}, ("definition", "value"), "expected a string, number"),
        ({"field": "orders", "op": "=", "value": 1, "extra": 2}, ("definition",), "unknown keys ['extra']"),
        ({"field": 3}, ("definition", "field"), "field must be a string"),
        (
            {"field": "warranty_ends_on", "op": "=", "value": {"date": "2024-02-30"}},
            ("definition", "value", "date"),
            "not a date",
        ),
        (
            {"field": "last_order_at", "op": "=", "value": {"timestamp": "2024-02-01"}},
            ("definition", "value", "timestamp"),
            "needs a zone",
        ),
        (
            {"field": "last_order_at", "op": "=", "value": {"now": {"fortnights": 1}}},
            ("definition", "value", "now"),
            "expected a duration",
        ),
        (
            {"no_order_for": {"duration": {"days": -1}}},
            ("definition", "no_order_for", "duration"),
            "positive whole amount",
        ),
        ({"no_order_for": {}}, ("definition", "no_order_for"), "needs duration"),
        ({"ordered": {"colour": "red"}}, ("definition", "ordered", "colour"), "no argument 'colour'"),
        ({"ordered": {"at_least": True}}, ("definition", "ordered", "at_least"), "whole number of 1 or more"),
        ({"owns": "P1"}, ("definition", "owns"), "object of arguments"),
    ],
)
def test_structural_errors_carry_json_paths(doc: object, loc: tuple[str | int, ...], fragment: str) -> None:
    err = _error(doc)
    assert isinstance(err, ValidationError) and err.http_status == 422
    assert [e.loc for e in err.errors] == [loc]
    assert fragment in err.errors[0].message


def test_type_problems_are_collected_at_their_paths() -> None:
    doc = {
        "any": [
            {"field": "clv_teir", "op": "=", "value": "x"},
            {"not": {"field": "churn_risk", "op": "=", "value": "hgh"}},
        ]
    }
    err = _error(doc)
    assert [e.loc for e in err.errors] == [("definition", "any", 0, "field"), ("definition", "any", 1, "not")]
    assert err.errors[0].message == "unknown field 'clv_teir' (did you mean 'clv_tier'?)"
    assert "valid fields: customer_id" in str(err)


def test_validate_checks_asts_built_in_python() -> None:
    tree = And((BoolField("email_consent"), Not(Compare("orders", "<", "ten"))))
    with pytest.raises(DefinitionError) as info:
        validate(tree)
    assert [e.loc for e in info.value.errors] == [("definition", "all", 1, "not")]
    validate(And((BoolField("email_consent"), Not(Compare("orders", "<", 10)))))


@pytest.mark.parametrize(
    "build",
    [
        lambda: And((BoolField("email_consent"),)),
        lambda: Or(()),
        lambda: InList("country", ()),
        lambda: Duration(0),
        lambda: Ordered(at_least=0),
        lambda: Compare("aov", "<", float("nan")),
        lambda: Compare("aov", "<>", 1),  # type: ignore[arg-type]
        lambda: Compare("last_order_at", "<", datetime(2024, 1, 1)),
    ],
)
def test_malformed_nodes_cannot_be_built(build: Any) -> None:
    with pytest.raises(ValidationError):
        build()


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    doc: dict[str, Any] = {"field": "email_consent"}
    for _ in range(5000):
        doc = {"not": doc}
    err = _error(doc)
    assert err.errors[0].loc == ("definition",)
    assert "nested deeper than 64" in err.errors[0].message
    doc = {"field": "email_consent"}
    for _ in range(64):
        doc = {"any": [doc, {"field": "sms_consent"}]}
    assert from_json(doc) == from_json(to_json(from_json(doc)))
