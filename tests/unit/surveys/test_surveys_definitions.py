"""Survey documents: every problem reported at its path (YAML: with line and column), defaults spelled
out in the canonical document, which parses back to the same survey."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from aftersales.core.errors import ValidationError
from aftersales.core.surveys.model import SCALES, Survey
from aftersales.core.surveys.parse import load_survey_yaml, parse_survey, survey_to_doc

FULL = """\
name: post-delivery-nps
kind: nps
description: After delivery
default_locale: en
question:
  en: How likely are you to recommend us to a friend?
  de: Wie wahrscheinlich ist es, dass Sie uns weiterempfehlen?
scale_labels:
  en: {low: Not at all likely, high: Extremely likely}
  de: {low: Unwahrscheinlich, high: Sehr wahrscheinlich}
dimensions:
  - id: order_process
    question: {en: "How easy was ordering?", de: "Wie einfach war die Bestellung?"}
  - id: shipping
    question: {en: "How was the delivery?", de: "Wie war die Lieferung?"}
    required: true
comment: {en: "Anything else?", de: "Sonst noch etwas?"}
thank_you: {en: Thank you!, de: Danke!}
category: transactional
topic: feedback
throttle: {survey: 180d, global: 30d}
link_ttl: 14d
edit_window: 2d
"""


def _errors(doc: Any) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        parse_survey(doc)
    return [(e.loc, e.message) for e in caught.value.errors]


def test_a_full_document_parses_and_round_trips() -> None:
    s = load_survey_yaml(FULL, "nps.yaml")
    assert (s.kind, s.scale, s.topic, s.category) == ("nps", (0, 10), "feedback", "transactional")
    assert [d.id for d in s.dimensions] == ["order_process", "shipping"] and s.dimensions[1].required
    assert s.throttle.survey == timedelta(days=180) and s.throttle.global_ == timedelta(days=30)
    assert s.link_ttl == timedelta(days=14) and s.edit_window == timedelta(days=2)
    assert s.text(s.question, "de_AT").startswith("Wie") and s.text(s.question, "fr").startswith("How")
    assert s.labels_for("de_CH") == ("Unwahrscheinlich", "Sehr wahrscheinlich")
    doc = survey_to_doc(s)
    assert parse_survey(doc) == s and survey_to_doc(parse_survey(doc)) == doc


def test_defaults_are_spelled_out() -> None:
    doc = survey_to_doc(parse_survey({"name": "c", "kind": "ces", "question": {"en": "Easy?"}}))
    assert doc == {
        "name": "c", "kind": "ces", "description": "", "default_locale": "en", "question": {"en": "Easy?"},
        "channel": "email", "category": "marketing", "topic": "surveys", "throttle": {"survey": "90d"},
        "link_ttl": "30d", "edit_window": "3d", "incentivised": False,
    }  # fmt: skip


def test_each_kind_has_its_scale() -> None:
    assert dict(SCALES) == {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7), "review": (1, 5)}
    for kind, scale in SCALES.items():
        assert parse_survey({"name": "k", "kind": kind, "question": {"en": "?"}}).scale == scale


def test_every_problem_is_named_by_its_path() -> None:
    found = _errors(
        {
            "name": "Bad Name",
            "kind": "nps",
            "question": {"de": "Frage?", "xx-YY": "?"},
            "dimensions": [
                {"id": "overall", "question": {"en": "?"}},
                {"id": "ship", "question": {"en": ""}},
                {"id": "ship", "question": {"en": "?"}, "weight": 2},
            ],
            "throttle": {"survey": "ninety days"},
            "link_ttl": "0d",
            "colour": "red",
        }
    )
    paths = {loc for loc, _ in found}
    assert ("name",) in paths and ("colour",) in paths and ("question", "xx-YY") in paths
    assert ("dimensions", 0, "id") in paths and ("dimensions", 1, "question", "en") in paths
    assert ("dimensions", 2, "id") in paths and ("dimensions", 2, "weight") in paths
    assert ("throttle", "survey") in paths and ("link_ttl",) in paths
    assert any("repeat" in m or "twice" in m for loc, m in found if loc == ("dimensions", 2, "id"))


def test_the_default_locale_must_be_present() -> None:
    assert _errors({"name": "n", "kind": "csat", "question": {"de": "Zufrieden?"}}) == [
        (("question",), "needs a text in the default locale 'en'")
    ]
    s = parse_survey({"name": "n", "kind": "csat", "default_locale": "de", "question": {"de": "Zufrieden?"}})
    assert s.default_locale == "de" and s.text(s.question, "en") == "Zufrieden?"


def test_reviews_have_a_title_and_no_dimensions_and_only_they_are_incentivised() -> None:
    review = parse_survey({"name": "r", "kind": "review", "question": {"en": "Rate it"}, "title": {"en": "Title"},
                           "comment": {"en": "Your review"}, "incentivised": True})  # fmt: skip
    assert review.is_review and review.incentivised and review.title_label == {"en": "Title"}
    dims = [{"id": "a", "question": {"en": "?"}}]
    assert {
        loc for loc, _ in _errors({"name": "r", "kind": "review", "question": {"en": "?"}, "dimensions": dims})
    } == {("dimensions",)}
    assert {loc for loc, _ in _errors({"name": "n", "kind": "nps", "question": {"en": "?"}, "title": {"en": "t"},
                                       "incentivised": True})} == {("title",), ("incentivised",)}  # fmt: skip


def test_yaml_errors_name_file_line_and_column() -> None:
    text = FULL.replace("  - id: shipping", "  - id: Shipping!")
    with pytest.raises(ValidationError) as caught:
        load_survey_yaml(text, "surveys/nps.yaml")
    [error] = caught.value.errors
    assert error.loc == ("dimensions", 1, "id")
    assert error.message.startswith("surveys/nps.yaml:14:5: ")
    assert "line 14, column 5: dimensions/1/id" in str(caught.value)
    with pytest.raises(ValidationError, match=r"nps.yaml:2:1: not valid YAML"):
        load_survey_yaml("name: a\n- b\n", "nps.yaml")


def test_yaml_keeps_no_as_text() -> None:
    s = load_survey_yaml("name: n\nkind: csat\nquestion: {en: no}\n", "s.yaml")
    assert isinstance(s, Survey) and s.question == {"en": "no"}
