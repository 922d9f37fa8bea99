"""The journey templates shipped with the package (issue 15 item 7): each is valid, named after its
file, round-trips through the canonical document, and every e-mail it sends is a shipped e-mail
template."""

from __future__ import annotations

import pytest

from aftersales.core.errors import NotFoundError
from aftersales.core.journeys import ActionStep, journey_to_doc, parse_journey
from aftersales.core.messaging.templates import TemplateCatalog
from aftersales.services.operational.journeys import templates

EXPECTED = {
    "post-purchase-thanks",
    "product-registration",
    "maintenance-reminder",
    "review-request",
    "win-back",
    "upgrade-offer",
    "renewal-reminder",
    "detractor-follow-up",
}


def test_every_lifecycle_template_is_shipped_valid_and_named_after_its_file() -> None:
    shipped = templates.list_templates()
    assert {t.name for t in shipped} == EXPECTED
    for t in shipped:
        assert t.journey.name == t.name and t.description == t.journey.description != ""
        assert t.text.lstrip().startswith("#")  # shipped with its explanation
        assert parse_journey(journey_to_doc(t.journey)) == t.journey


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_email_a_template_sends_is_a_shipped_email_template(name: str) -> None:
    catalog = TemplateCatalog.from_package()
    sent = [s.params["template"] for s in templates.get_template(name).journey.steps
            if isinstance(s, ActionStep) and s.kind == "email"]  # fmt: skip
    assert sent and all(t in catalog for t in sent), (sent, catalog.names())


def test_the_lifecycle_rules_the_templates_promise() -> None:
    by_name = {t.name: t.journey for t in templates.list_templates()}
    detractor = by_name["detractor-follow-up"]
    assert [(f.property, f.op, f.value) for f in detractor.trigger.where] == [("kind", "eq", "nps"), ("score", "le", 6)]
    assert [s.kind for s in detractor.steps if isinstance(s, ActionStep)] == ["webhook", "email"]
    assert by_name["maintenance-reminder"].trigger.rule.field == "next_maintenance_due_on"
    assert by_name["win-back"].trigger.rule.days == 120
    assert "coupon" in templates.get_template("win-back").text  # the incentive left for loyalty, said so
    assert by_name["upgrade-offer"].audience == "likely-upgraders" and by_name["upgrade-offer"].exit.left_segment
    assert by_name["renewal-reminder"].category == "transactional"


def test_an_unknown_template_lists_the_names() -> None:
    with pytest.raises(NotFoundError, match=r"no journey template 'nope' \(templates: detractor-follow-up, "):
        templates.get_template("nope")
    with pytest.raises(NotFoundError):
        templates.get_template("../email/thank-you")
