"""The survey invitation e-mails (templates/email/survey-<kind>, English and German): the score scale
from survey_invitation_context, one signed link per point, each opening the page for that score."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aftersales.core.messaging.context import personalisation
from aftersales.core.messaging.templates import TemplateCatalog, render_email
from aftersales.core.surveys.model import SCALES
from aftersales.core.surveys.parse import parse_survey
from aftersales.services.operational.surveys.links import SurveyLinks, survey_invitation_context
from aftersales.services.ports_surveys import SendRecord

CATALOG = TemplateCatalog.from_package()
NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)
LINKS = SurveyLinks(b"k" * 32, "https://shop.example")


def _context(kind: str, locale: str, labels: bool) -> tuple[dict[str, object], dict[str, object]]:
    doc: dict[str, object] = {"name": f"s-{kind}", "kind": kind, "question": {"en": "Q-en?", "de": "Q-de?"}}
    if labels:
        doc["scale_labels"] = {"en": {"low": "LOW-en", "high": "HIGH-en"}, "de": {"low": "LOW-de", "high": "HIGH-de"}}
    survey = parse_survey(doc)
    send = SendRecord("snd_1", "srv_1", 1, "c1", "o1", "P1" if kind == "review" else None, "email", NOW,
                      NOW + timedelta(days=14), "sent")  # fmt: skip
    invitation = survey_invitation_context(send, NOW, links=LINKS, survey=survey, locale=locale)
    extra = {**invitation, "unsubscribe_url": "https://shop.example/u/T", "brand": "Kaffee & Co"}
    return personalisation({"customer_id": "c1", "name": "Ana Ruiz"}, None, extra=extra), invitation


@pytest.mark.parametrize("kind", list(SCALES))
@pytest.mark.parametrize("locale", ["en", "de_CH"])
def test_every_point_of_the_scale_is_one_link(kind: str, locale: str) -> None:
    context, invitation = _context(kind, locale, labels=True)
    rendered = render_email(CATALOG.resolve(f"survey-{kind}", locale), context, locale=locale)
    low, high = SCALES[kind]
    scores = invitation["scores"]
    assert isinstance(scores, list) and [s["score"] for s in scores] == list(range(low, high + 1))
    for s in scores:
        assert f'href="{s["url"]}"' in rendered.html and s["url"] in rendered.text
        assert s["url"].startswith("https://shop.example/s/") and s["url"].endswith(f"?score={s['score']}")
    lang = "de" if locale.startswith("de") else "en"
    assert f"Q-{lang}?" in rendered.html and f"LOW-{lang}" in rendered.html and f"HIGH-{lang}" in rendered.html
    assert "Ana" in rendered.subject and "14" in rendered.text
    assert "None" not in rendered.text and "{{" not in rendered.html


@pytest.mark.parametrize(("kind", "english", "german"), [("nps", "Not at all likely", "Überhaupt nicht wahrscheinlich"),
                                                        ("ces", "Very easy", "Sehr einfach"),
                                                        ("review", "Excellent", "Ausgezeichnet")])  # fmt: skip
def test_the_ends_of_the_scale_have_default_words(kind: str, english: str, german: str) -> None:
    for locale, words in (("en", english), ("de", german)):
        context, _ = _context(kind, locale, labels=False)
        assert words in render_email(CATALOG.resolve(f"survey-{kind}", locale), context, locale=locale).html


def test_without_the_invitation_variables_the_email_still_renders() -> None:
    bare = personalisation({"customer_id": "c2"}, None, extra={"survey_url": "https://shop.example/s/T"})
    for kind in SCALES:
        rendered = render_email(CATALOG.resolve(f"survey-{kind}", "en"), bare, locale="en")
        assert "https://shop.example/s/T" in rendered.html and "None" not in rendered.text
    CATALOG.check()
