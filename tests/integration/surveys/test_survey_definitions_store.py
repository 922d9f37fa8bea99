"""Survey definitions and sends in the store (SQLite and PostgreSQL): apply writes a version only when
the document changed; sends are idempotent by key and throttled; cancelled and returned orders are
not asked about."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from aftersales.core.errors import ConflictError, NotFoundError, ValidationError
from aftersales.core.surveys.parse import parse_survey
from aftersales.services.operational.surveys import definitions, sends

from .conftest import NPS_DOC, REVIEW_DOC, T0, Store


def test_apply_creates_versions_only_on_change_and_keeps_the_kind(store: Store) -> None:
    first = definitions.apply(store.uow, parse_survey(NPS_DOC), now=T0)
    again = definitions.apply(store.uow, parse_survey(copy.deepcopy(NPS_DOC)), now=T0 + timedelta(1))
    changed_doc = copy.deepcopy(NPS_DOC) | {"thank_you": {"en": "Thanks a lot!"}}
    changed = definitions.apply(store.uow, parse_survey(changed_doc), now=T0 + timedelta(2))
    assert (first.outcome, again.outcome, changed.outcome) == ("created", "unchanged", "changed")
    assert changed.survey.version == 2 and changed.previous_version == 1
    assert changed.survey.survey_id == first.survey.survey_id
    with pytest.raises(ValidationError, match="kind cannot become csat"):
        definitions.apply(store.uow, parse_survey(NPS_DOC | {"kind": "csat"}), now=T0)
    with store.uow() as u:
        old = definitions.survey_version(u, first.survey.survey_id, 1)
    assert old.thank_you == {"en": "Thank you!", "de": "Danke!"}
    listed = definitions.list_surveys(store.uow)
    assert [(s.name, s.version, s.status) for s in listed] == [("post-delivery-nps", 2, "active")]
    shown = definitions.get(store.uow, "post-delivery-nps")
    assert shown.definition["thank_you"] == {"en": "Thanks a lot!"} and shown.sends == {}
    archived = definitions.archive(store.uow, first.survey.survey_id, now=T0)
    assert archived.status == "archived"
    with pytest.raises(ConflictError):
        definitions.archive(store.uow, "post-delivery-nps", now=T0)
    with pytest.raises(NotFoundError):
        definitions.get(store.uow, "nope")


def test_sends_are_idempotent_by_key_and_throttled(store: Store) -> None:
    definitions.apply(store.uow, parse_survey(NPS_DOC), now=T0)
    a = sends.open_send(store.uow, "post-delivery-nps", "c1", key="msg_1", now=T0, order_id="o4")
    again = sends.open_send(store.uow, "post-delivery-nps", "c1", key="msg_1", now=T0 + timedelta(1), order_id="o4")
    assert a.created and not again.created and again.send == a.send
    assert a.send is not None and a.send.expires_at == T0 + timedelta(days=30) and a.send.status == "sent"
    soon = sends.open_send(store.uow, "post-delivery-nps", "c1", key="msg_2", now=T0 + timedelta(days=89))
    assert soon.send is None and soon.refusal == "this survey was sent 89 days ago (at most one per 90 days)"
    later = sends.open_send(store.uow, "post-delivery-nps", "c1", key="msg_3", now=T0 + timedelta(days=90))
    assert later.created
    definitions.apply(store.uow, parse_survey(REVIEW_DOC), now=T0)
    other = sends.open_send(store.uow, "product-review", "c1", key="r1", now=T0 + timedelta(days=91), product_id="P1")
    assert other.created  # the review survey's global window is 0d
    back = sends.open_send(store.uow, "post-delivery-nps", "c3", key="msg_4", now=T0, order_id="o2")
    assert back.send is None and back.refusal == "the order was returned"
    asked = sends.open_send(
        store.uow, "post-delivery-nps", "c3", key="msg_4", now=T0, order_id="o2", include_cancelled_or_returned=True
    )
    assert asked.created
    with pytest.raises(ValidationError, match="product_id"):
        sends.open_send(store.uow, "product-review", "c2", key="r2", now=T0)
    with pytest.raises(NotFoundError):
        sends.open_send(store.uow, "post-delivery-nps", "nobody", key="x", now=T0)
    assert definitions.get(store.uow, "post-delivery-nps").sends == {"sent": 3}


def test_the_global_window_spans_surveys(store: Store) -> None:
    definitions.apply(store.uow, parse_survey(NPS_DOC), now=T0)
    definitions.apply(store.uow, parse_survey(NPS_DOC | {"name": "relationship-nps"}), now=T0)
    assert sends.open_send(store.uow, "post-delivery-nps", "c1", key="a", now=T0).created
    blocked = sends.open_send(store.uow, "relationship-nps", "c1", key="b", now=T0 + timedelta(days=30))
    assert blocked.refusal == "another survey was sent 30 days ago (at most one survey per 90 days)"
    free = sends.open_send(
        store.uow, "relationship-nps", "c1", key="b", now=T0 + timedelta(days=30), global_throttle=timedelta(days=7)
    )
    assert free.created


def test_an_archived_survey_sends_nothing(store: Store) -> None:
    definitions.apply(store.uow, parse_survey(NPS_DOC), now=T0)
    definitions.archive(store.uow, "post-delivery-nps", now=T0)
    with pytest.raises(ConflictError, match="archived"):
        sends.open_send(store.uow, "post-delivery-nps", "c1", key="a", now=T0)
