"""Program documents: defaults, canonical form and digest, and every problem named at its path."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aftersales.core.errors import ValidationError
from aftersales.core.loyalty import parse_program, program_digest, program_document

FULL = {
    "name": "rewards",
    "currency": "EUR",
    "earn": {
        "points_per_unit": 2,
        "category_multipliers": {"bikes": 1.5, "parts": "2"},
        "bonuses": {"review_written": 50, "survey_answered": 20, "product_registered": 100},
        "review_event": "review.written",
    },
    "lock": {"return_window_days": 14},
    "expiry": {"active_days": 730, "warning_days": 14},
    "value": {"cost_per_point": 0.005},
    "tiers": {
        "window_days": 365,
        "retain_days": 90,
        "levels": [
            {"name": "member", "min_points": 0},
            {"name": "silver", "min_points": 1000, "earn_multiplier": 1.25},
        ],
    },
    "rewards": [
        {"id": "ten_off", "name": "10 off", "points": 1000, "kind": "amount_off", "value": 10},
        {"id": "pct", "points": 500, "kind": "percent_off", "value": 15, "min_tier": "silver"},
        {"id": "bottle", "points": 300, "kind": "free_product", "product_id": "p-7"},
    ],
}


def test_a_full_document_reads_back_to_the_same_canonical_form() -> None:
    p = parse_program(FULL)
    assert (p.currency, p.return_window_days, p.expiry_days, p.cost_per_point) == ("EUR", 14, 730, Decimal("0.005"))
    assert p.multiplier("parts") == 2 and p.multiplier("bikes") == Decimal("1.5") and p.multiplier(None) == 1
    assert p.reward("pct") is not None and p.reward("pct").min_tier == "silver"  # type: ignore[union-attr]
    doc = program_document(p)
    assert doc["earn"]["category_multipliers"] == {"bikes": 1.5, "parts": 2}
    assert doc["rewards"][1] == {"id": "pct", "name": "pct", "points": 500, "kind": "percent_off", "value": 15,
                                 "min_tier": "silver"}  # fmt: skip
    again = parse_program(doc)
    assert again == p and program_digest(again) == program_digest(p)
    assert program_digest(parse_program({**FULL, "name": "other"})) != program_digest(p)


def test_an_empty_document_takes_the_defaults() -> None:
    p = parse_program({})
    assert (p.points_per_unit, p.return_window_days, p.expiry_days, p.expiry_warning_days) == (1, 30, 365, 30)
    assert [t.name for t in p.tiers.levels] == ["member"] and p.rewards == ()
    assert parse_program({"expiry": {"active_days": None}}).expiry_days is None


@pytest.mark.parametrize(
    ("doc", "loc", "text"),
    [
        ({"earn": {"points_per_unit": -1}}, ("earn", "points_per_unit"), "non-negative number"),
        ({"earn": {"bonus": {}}}, ("earn", "bonus"), "unknown field"),
        ({"earn": {"bonuses": {"review_written": 1.5}}}, ("earn", "bonuses", "review_written"), "whole number"),
        ({"earn": {"category_multipliers": {"bikes": "x"}}}, ("earn", "category_multipliers", "bikes"), "number"),
        ({"lock": {"return_window_days": 400}}, ("expiry", "active_days"), "longer than the return window"),
        ({"currency": "usd"}, ("currency",), "ISO 4217"),
        ({"tiers": {"levels": []}}, ("tiers", "levels"), "non-empty list"),
        ({"tiers": {"levels": [{"name": "a", "min_points": 0}, {"name": "b", "min_points": 0}]}},
         ("tiers", "levels", 1, "min_points"), "above the previous level's 0"),
        ({"tiers": {"levels": [{"name": "a", "min_points": 0}, {"name": "a", "min_points": 5}]}},
         ("tiers", "levels", 1, "name"), "used twice"),
        ({"tiers": {"levels": [{"name": "a", "min_points": 0, "earn_multiplier": 0}]}},
         ("tiers", "levels", 0, "earn_multiplier"), "positive number"),
        ({"rewards": [{"id": "x", "points": 0, "kind": "amount_off", "value": 5}]}, ("rewards", 0, "points"),
         "between 1 and"),
        ({"rewards": [{"id": "x", "points": 5, "kind": "cash"}]}, ("rewards", 0, "kind"), "not one of"),
        ({"rewards": [{"id": "x", "points": 5, "kind": "percent_off", "value": 120}]}, ("rewards", 0, "value"),
         "at most 100"),
        ({"rewards": [{"id": "x", "points": 5, "kind": "free_product"}]}, ("rewards", 0, "product_id"), "names its"),
        ({"rewards": [{"id": "x", "points": 5, "kind": "amount_off", "value": 1, "min_tier": "vip"}]},
         ("rewards", 0, "min_tier"), "not a tier"),
        ({"colour": "red"}, ("colour",), "unknown field"),
        ([], (), "is an object"),
    ],
)  # fmt: skip
def test_each_problem_is_named_at_its_path(doc, loc, text) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_program(doc)
    found = [e for e in caught.value.errors if e.loc == loc]
    assert found and text in found[0].message, caught.value.errors
    assert str(caught.value).startswith("invalid loyalty program: ")


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_program({"currency": 1, "lock": {"return_window_days": "x"}, "tiers": {"window_days": 0}})
    assert [e.loc for e in caught.value.errors] == [("currency",), ("lock", "return_window_days"),
                                                    ("tiers", "window_days")]  # fmt: skip
