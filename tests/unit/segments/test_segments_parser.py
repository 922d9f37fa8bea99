"""The text form of segments: precedence, every operator and value, functions, and located errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from aftersales.core.errors import ValidationError
from aftersales.core.segments.ast import (
    And,
    Between,
    BoolField,
    Compare,
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
)
from aftersales.core.segments.check import DefinitionError
from aftersales.core.segments.text import parse, to_text

DAY = 86400
A = BoolField("email_consent")
B = BoolField("sms_consent")
C = Compare("orders", ">", 1)
T10 = datetime(2024, 3, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("email_consent or sms_consent and orders > 1", Or((A, And((B, C))))),
        ("email_consent and sms_consent or orders > 1", Or((And((A, B)), C))),
        ("not email_consent and sms_consent", And((Not(A), B))),
        ("not (email_consent and sms_consent)", Not(And((A, B)))),
        ("not not email_consent", Not(Not(A))),
        ("(email_consent or sms_consent) and orders > 1", And((Or((A, B)), C))),
        ("email_consent and sms_consent and orders > 1", And((A, B, C))),
        ("(email_consent and sms_consent) and orders > 1", And((And((A, B)), C))),
        ("email_consent or sms_consent or orders > 1", Or((A, B, C))),
        ("email_consent or (sms_consent or orders > 1)", Or((A, Or((B, C))))),
        ("NOT Email_consent".replace("Email", "email"), Not(A)),
        ("email_consent AND sms_consent Or orders>1", Or((And((A, B)), C))),
        ("((email_consent))", A),
        ("email_consent\n  and\tsms_consent", And((A, B))),
    ],
)
def test_precedence_not_over_and_over_or_and_grouping_is_kept(text: str, tree: object) -> None:
    assert parse(text) == tree
    assert parse(to_text(parse(text))) == tree


@pytest.mark.parametrize("op", ["=", "!=", "<", "<=", ">", ">="])
def test_every_comparison_operator(op: str) -> None:
    assert parse(f"aov {op} 10.5") == Compare("aov", op, 10.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("churn_risk in ('high', 'medium')", InList("churn_risk", ("high", "medium"))),
        ("country not in ('DE')", InList("country", ("DE",), negated=True)),
        ("orders in (1, 2,3)", InList("orders", (1, 2, 3))),
        ("country is null", IsNull("country")),
        ("country IS NOT NULL", IsNull("country", negated=True)),
        ("orders between 2 and 5", Between("orders", 2, 5)),
        ("p_alive not between 0.1 and 0.9", Between("p_alive", 0.1, 0.9, negated=True)),
        ("categories_bought contains 'bikes'", Contains("categories_bought", "bikes")),
        ("email_consent", BoolField("email_consent")),
        ("email_consent = false", Compare("email_consent", "=", False)),
        ("sms_consent != TRUE", Compare("sms_consent", "!=", True)),
        ("revenue > -12.5", Compare("revenue", ">", -12.5)),
        ("revenue >= 1e3", Compare("revenue", ">=", 1000.0)),
        ("orders = -3", Compare("orders", "=", -3)),
        ("country = 'O''Brien'", Compare("country", "=", "O'Brien")),
        ("country = ''''", Compare("country", "=", "'")),
        ("country = 'two\nlines'", Compare("country", "=", "two\nlines")),
        ("warranty_ends_on < date '2024-03-01'", Compare("warranty_ends_on", "<", date(2024, 3, 1))),
        (
            "last_order_at >= timestamp '2024-03-01T10:00:00+02:00'",
            Compare("last_order_at", ">=", datetime(2024, 3, 1, 8, tzinfo=UTC)),
        ),
        ("last_order_at < timestamp '2024-03-01T10:00:00Z'", Compare("last_order_at", "<", T10)),
        ("last_order_at < date '2024-03-01'", Compare("last_order_at", "<", date(2024, 3, 1))),
        ("last_order_at < now", Compare("last_order_at", "<", Now())),
        ("last_order_at < now - 90 days", Compare("last_order_at", "<", Now(-90 * DAY))),
        ("next_maintenance_due_on <= now + 2 weeks", Compare("next_maintenance_due_on", "<=", Now(14 * DAY))),
        ("last_order_at > now - 1 hour", Compare("last_order_at", ">", Now(-3600))),
        ("last_order_at between now - 30 minutes and now", Between("last_order_at", Now(-1800), Now())),
    ],
)
def test_every_field_operator_and_value(text: str, node: object) -> None:
    assert parse(text) == node


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("ordered()", Ordered()),
        ("ordered(category = 'X', within = 90 days)", Ordered(category="X", within=Duration(90 * DAY))),
        ("ordered(within=90 days, category='X')", Ordered(category="X", within=Duration(90 * DAY))),
        ("ordered(product = 'P1', at_least = 2)", Ordered(product="P1", at_least=2)),
        ("no_order_for(120 days)", NoOrderFor(Duration(120 * DAY))),
        ("no_order_for(duration = 1 day)", NoOrderFor(Duration(DAY))),
        ("event('checkout_started', within = 7 days)", EventOccurred("checkout_started", Duration(7 * DAY))),
        ("event(name = 'x', at_least = 3)", EventOccurred("x", None, 3)),
        ("owns('P123')", Owns("P123")),
    ],
)
def test_behavioural_functions(text: str, node: object) -> None:
    assert parse(text) == node


def test_the_issues_examples_parse_and_render_canonically() -> None:
    text = "clv_tier = 'above_average' and churn_risk in ('high','medium') and email_consent"
    assert to_text(parse(text)) == "clv_tier = 'above_average' and churn_risk in ('high', 'medium') and email_consent"
    abandoned = "event('checkout_started', within = 7 days) and not event('checkout_completed', within = 7 days)"
    assert to_text(parse(abandoned)) == abandoned
    assert to_text(parse("ordered(at_least = 1, within = 2 weeks)")) == "ordered(within = 14 days)"


def _error(text: str) -> DefinitionError:
    with pytest.raises(DefinitionError) as info:
        parse(text)
    return info.value


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("orders >", 1, 9, "expected a value"),
        ("orders > 1 and", 1, 15, "expected a condition"),
        ("(orders > 1", 1, 12, "expected ')'"),
        ("orders > 1)", 1, 11, "closes nothing"),
        ("orders > 1 sms_consent", 1, 12, "expected 'and', 'or' or the end"),
        ("", 1, 1, "expected a condition, found the end"),
        ("email_consent\n  and orders >> 2", 2, 15, "expected a value"),
        ("country = null", 1, 11, "is null"),
        ("country = 'open", 1, 11, "string not closed"),
        ("orders ~ 1", 1, 8, "unexpected character '~'"),
        ("email_consent not orders", 1, 19, "expected 'in' or 'between' after 'not'"),
        ("orders in 1", 1, 11, "'(' to open the list"),
        ("orders in (1 2)", 1, 14, "',' or ')'"),
        ("orders between 1 or 2", 1, 18, "'and' between"),
        ("country is empty", 1, 12, "'null' or 'not null'"),
        ("categories_bought contains bikes", 1, 28, "quoted string"),
        ("warranty_ends_on < date '2024-13-01'", 1, 25, "not a date"),
        ("last_order_at < timestamp '2024-03-01T10:00:00'", 1, 27, "needs a zone"),
        ("last_order_at < timestamp '2400-03-01T10:00:00Z'", 1, 27, "years 1900-2199"),
        ("ordered(category = 'X', within = 90 dys)", 1, 37, "expected a unit"),
        ("ordered(within = 1.5 days)", 1, 18, "whole number"),
        ("no_order_for(0 days)", 1, 14, "longer than zero"),
        ("ordered('X')", 1, 9, "named argument"),
        ("ordred(within = 1 day)", 1, 1, "unknown function 'ordred'"),
        ("event(within = 7 days)", 1, 1, "event() needs name"),
        ("owns('P1', product = 'P2')", 1, 12, "got 'product' twice"),
        ("ordered(colour = 'red')", 1, 9, "has no argument 'colour'"),
        ("ordered(at_least = 0)", 1, 20, "1 or more"),
        ("event('a' within = 1 day)", 1, 11, "',' or ')'"),
    ],
)
def test_syntax_errors_name_line_column_and_what_was_expected(text: str, line: int, column: int, fragment: str) -> None:
    err = _error(text)
    assert isinstance(err, ValidationError) and err.exit_code == 2 and err.http_status == 422
    assert [e.loc for e in err.errors] == [("where", line, column)]
    assert fragment in str(err)
    assert str(err).startswith(f"line {line}, column {column}: ")


def test_error_message_shows_the_line_with_a_caret() -> None:
    err = _error("email_consent and\n  orders >= 'x' or sms_consent")
    assert str(err) == (
        "line 2, column 3: field 'orders' holds numbers: compare it with a number, not 'x'\n"
        "    orders >= 'x' or sms_consent\n"
        "    ^^^^^^^^^^^^^"
    )


def test_unknown_fields_name_the_nearest_and_list_the_valid_ones() -> None:
    err = _error("clv_teir = 'above_average'")
    assert err.errors[0].loc == ("where", 1, 1)
    assert err.errors[0].message == "unknown field 'clv_teir' (did you mean 'clv_tier'?)"
    assert "valid fields: customer_id, first_order_at" in str(err)
    assert "lookalike_score" in str(err)
    assert "clv_tier" in err.valid_fields


def test_the_source_name_heads_each_location() -> None:
    with pytest.raises(DefinitionError) as info:
        parse("email_consent and zzz", name="--where")
    assert info.value.errors[0].loc == ("--where", 1, 19)
    assert "valid fields:" in str(info.value)  # no near name: the list alone


def test_type_problems_are_all_collected_with_their_positions() -> None:
    err = _error("clv_teir = 'x' and orders = 'ten' or churn_risk = 'hgh' and country < 'M'")
    assert [e.loc for e in err.errors] == [("where", 1, 1), ("where", 1, 20), ("where", 1, 38), ("where", 1, 61)]
    messages = [e.message for e in err.errors]
    assert "holds numbers" in messages[1]
    assert "is one of 'low', 'medium', 'high', not 'hgh'" in messages[2]
    assert "it takes = and != (and in), not <" in messages[3]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("orders", "field 'orders' is int, not true/false"),
        ("email_consent = 1", "is true or false"),
        ("orders contains 'x'", "'contains' applies to list fields (categories_bought, products_registered)"),
        ("categories_bought = 'x'", "is a list: test it with contains"),
        ("email_consent in (true)", "'in' applies to text and number fields"),
        ("country between 'A' and 'B'", "'between' applies to numbers"),
        ("warranty_ends_on > timestamp '2024-01-01T00:00:00Z'", "is a date"),
        ("last_order_at > 5", "is a time stamp"),
        ("rfm_segment in ('champions', 'chumps')", "not 'chumps'"),
    ],
)
def test_type_mismatches(text: str, fragment: str) -> None:
    err = _error(text)
    assert len(err.errors) == 1
    assert fragment in err.errors[0].message


def test_the_docs_examples_parse_and_round_trip() -> None:
    docs = (Path(__file__).parents[3] / "docs" / "segments.md").read_text(encoding="utf-8")
    block = docs.split("### Examples\n\n```text\n", 1)[1].split("```", 1)[0]
    examples = [line for line in block.splitlines() if line.strip()]
    assert len(examples) == 6
    for text in examples:
        assert to_text(parse(text)) == text


def test_deep_nesting_is_a_located_error_not_a_crash() -> None:
    assert parse("(" * 64 + "email_consent" + ")" * 64) == A
    err = _error("not " * 65 + "email_consent")
    assert err.errors[0].loc == ("where", 1, 257)
    assert "nested deeper than 64" in str(_error("(" * 5000 + "email_consent" + ")" * 5000))
