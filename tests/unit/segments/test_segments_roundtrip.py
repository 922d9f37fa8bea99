"""Both spellings round-trip: random well-typed ASTs -> text -> AST and -> JSON (through json.dumps) -> AST."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.core.segments.ast import (
    COMPARE_OPS,
    And,
    Between,
    BoolField,
    Compare,
    Condition,
    Contains,
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
    Value,
)
from aftersales.core.segments.check import validate
from aftersales.core.segments.fields import FIELDS, ProfileField
from aftersales.core.segments.json_form import from_json, to_json
from aftersales.core.segments.text import parse, to_text

nows = st.integers(-Duration.LIMIT, Duration.LIMIT).map(Now)
durations = st.integers(1, Duration.LIMIT).map(Duration)
days = st.dates(date(1900, 1, 1), date(2199, 12, 31))
stamps = st.datetimes(datetime(1900, 1, 2), datetime(2199, 12, 30), timezones=st.just(UTC))
numbers = st.integers(-(10**12), 10**12) | st.floats(allow_nan=False, allow_infinity=False)


def values_for(field: ProfileField) -> st.SearchStrategy[Value]:
    if field.numeric:
        return numbers
    if field.type == "text":
        return st.sampled_from(field.choices) if field.choices else st.text(max_size=12)
    if field.type == "bool":
        return st.booleans()
    if field.type == "timestamp":
        return stamps | days | nows
    return days | nows


def fields_where(pred: object) -> st.SearchStrategy[ProfileField]:
    return st.sampled_from([f for f in FIELDS.values() if pred(f)])  # type: ignore[operator]


@st.composite
def field_tests(draw: st.DrawFn) -> Condition:
    kind = draw(st.sampled_from(["compare", "in", "null", "between", "contains", "bool"]))
    if kind == "contains":
        return Contains(draw(fields_where(lambda f: f.type == "text_list")).name, draw(st.text(max_size=8)))
    if kind == "bool":
        return BoolField(draw(fields_where(lambda f: f.type == "bool")).name)
    if kind == "null":
        return IsNull(draw(st.sampled_from(list(FIELDS))), draw(st.booleans()))
    if kind == "in":
        field = draw(fields_where(lambda f: f.type in ("text", "int", "float")))
        values = draw(st.lists(values_for(field), min_size=1, max_size=4))
        return InList(field.name, tuple(values), draw(st.booleans()))
    if kind == "between":
        field = draw(fields_where(lambda f: f.ordered))
        return Between(field.name, draw(values_for(field)), draw(values_for(field)), draw(st.booleans()))
    field = draw(fields_where(lambda f: f.type != "text_list"))
    ops = COMPARE_OPS if field.ordered else ("=", "!=")
    return Compare(field.name, draw(st.sampled_from(ops)), draw(values_for(field)))


texts = st.text(max_size=10)
behaviours = st.one_of(
    st.builds(
        Ordered,
        category=st.none() | texts,
        product=st.none() | texts,
        within=st.none() | durations,
        at_least=st.integers(1, 50),
    ),
    st.builds(NoOrderFor, durations),
    st.builds(EventOccurred, texts, st.none() | durations, st.integers(1, 50)),
    st.builds(Owns, texts),
)


def _combine(children: st.SearchStrategy[Condition]) -> st.SearchStrategy[Condition]:
    lists = st.lists(children, min_size=2, max_size=4).map(tuple)
    return st.one_of(lists.map(And), lists.map(Or), children.map(Not))


conditions = st.recursive(field_tests() | behaviours, _combine, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(conditions)
def test_text_round_trip(tree: Condition) -> None:
    validate(tree)  # the generator makes only well-typed trees
    assert parse(to_text(tree)) == tree


@settings(max_examples=300, deadline=None)
@given(conditions)
def test_json_round_trip_through_json_text(tree: Condition) -> None:
    encoded = json.dumps(to_json(tree), allow_nan=False)
    assert from_json(json.loads(encoded)) == tree


@settings(max_examples=100, deadline=None)
@given(conditions)
def test_text_and_json_agree(tree: Condition) -> None:
    assert to_json(parse(to_text(tree))) == to_json(tree)
    assert to_text(from_json(to_json(tree))) == to_text(tree)
