"""The response page's use cases on the store (SQLite and PostgreSQL): a link's score is stored once
and updated by later clicks and submits, a partial answer resumes, refused links store nothing, the
edit window closes an answer, previews store nothing, and the first answer is announced once."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from aftersales.core.errors import ConflictError, TokenError
from aftersales.core.surveys.links import PreviewLink, SurveyLink, sign_preview_link, sign_survey_link
from aftersales.core.surveys.parse import parse_survey
from aftersales.services.operational.surveys import definitions, responses, sends
from aftersales.services.ports_surveys import SendRecord

from .conftest import KEY, NPS_DOC, REVIEW_DOC, T0, Store


def _send(store: Store, doc: dict[str, Any] = NPS_DOC, customer: str = "c1", **kw: Any) -> SendRecord:
    definitions.apply(store.uow, parse_survey(doc), now=T0)
    opened = sends.open_send(store.uow, doc["name"], customer, key=f"k-{customer}", now=T0, **kw)
    assert opened.send is not None
    return opened.send


def test_a_score_from_the_link_then_the_follow_ups_make_one_response(store: Store) -> None:
    send = _send(store, order_id="o0")
    token = store.links.token(send)
    page = responses.open_page(store.uow, store.links, token, now=T0 + timedelta(hours=1), score="8")
    assert page.stage == "follow_up" and page.answers.score == 8 and page.locale == "en"
    again = responses.open_page(store.uow, store.links, token, now=T0 + timedelta(hours=2), score="8")
    assert again.answers.score == 8
    rows = store.rows("survey_responses")
    assert [(r["dimension"], r["score"], r["survey_id"], r["order_id"], r["kind"]) for r in rows] == [
        ("overall", 8, "post-delivery-nps", "o0", "nps")
    ]
    [stored] = store.rows("survey_sends")
    assert stored["status"] == "partial" and stored["first_answered_at"] == T0 + timedelta(hours=1)
    # resume: the page opened again without a score shows the stored score and asks the follow-ups
    resumed = responses.open_page(store.uow, store.links, token, now=T0 + timedelta(hours=3))
    assert resumed.stage == "follow_up" and resumed.answers.score == 8
    form = {"score": ["9"], "dim_shipping": ["6"], "dim_product": ["10"], "comment": ["Fast"]}
    done = responses.submit_page(store.uow, store.links, token, form, now=T0 + timedelta(hours=4))
    assert done.stage == "thanks"
    resubmit = {"score": ["9"], "dim_shipping": ["7"], "dim_product": [""], "comment": ["Fast!"]}
    responses.submit_page(store.uow, store.links, token, resubmit, now=T0 + timedelta(hours=5))
    rows = sorted((r["dimension"], r["score"], r["comment"]) for r in store.rows("survey_responses"))
    assert rows == [("overall", 9, "Fast!"), ("shipping", 7, None)]
    assert {r["responded_at"] for r in store.rows("survey_responses")} == {T0 + timedelta(hours=1)}
    [stored] = store.rows("survey_sends")
    assert stored["status"] == "answered" and stored["answered_at"] == T0 + timedelta(hours=5)
    [event] = store.rows("events")
    assert event["name"] == "survey.responded" and event["customer_id"] == "c1"
    assert json.loads(event["properties"])["score"] == 8


def test_a_form_error_stores_nothing(store: Store) -> None:
    token = store.links.token(_send(store))
    page = responses.submit_page(store.uow, store.links, token, {"score": ["11"]}, now=T0)
    assert page.stage == "question" and [e.loc for e in page.errors] == [("score",)]
    bad_link = responses.open_page(store.uow, store.links, token, now=T0, score="eleven")
    assert [e.loc for e in bad_link.errors] == [("score",)]
    assert store.rows("survey_responses") == [] and store.rows("events") == []
    assert store.rows("survey_sends")[0]["status"] == "sent"


def test_tampered_expired_and_foreign_links_are_refused_and_store_nothing(store: Store) -> None:
    send = _send(store)
    other = _send(store, customer="c3")
    token = store.links.token(send)
    _body, mac = token.split(".")
    foreign = sign_survey_link(
        KEY, SurveyLink(send.send_id, "c3", send.survey_id, send.version), expires_at=send.expires_at
    )
    wrong_version = sign_survey_link(
        KEY, SurveyLink(other.send_id, "c3", other.survey_id, 7), expires_at=send.expires_at
    )
    unknown = sign_survey_link(KEY, SurveyLink("snd_nope", "c1", send.survey_id, 1), expires_at=send.expires_at)
    cases = {
        "tampered": (store.links.token(other).split(".")[0] + "." + mac, T0),
        "expired": (token, send.expires_at),
        "foreign": (foreign, T0),
        "wrong version": (wrong_version, T0),
        "unknown send": (unknown, T0),
        "garbage": ("not-a-token", T0),
    }
    reasons = {}
    for name, (bad, now) in cases.items():
        with pytest.raises(TokenError) as caught:
            responses.open_page(store.uow, store.links, bad, now=now, score="3")
        reasons[name] = caught.value.reason
        with pytest.raises(TokenError):
            responses.submit_page(store.uow, store.links, bad, {"score": ["3"]}, now=now)
    assert reasons == {
        "tampered": "bad_signature", "expired": "expired", "foreign": "foreign", "wrong version": "foreign",
        "unknown send": "foreign", "garbage": "malformed",
    }  # fmt: skip
    assert store.rows("survey_responses") == [] and store.rows("events") == []
    assert {r["status"] for r in store.rows("survey_sends")} == {"sent"}


def test_the_edit_window_and_archiving_close_the_link(store: Store) -> None:
    send = _send(store)
    token = store.links.token(send)
    responses.open_page(store.uow, store.links, token, now=T0, score="4")
    window = parse_survey(NPS_DOC).edit_window
    page = responses.open_page(store.uow, store.links, token, now=T0 + window - timedelta(seconds=1), score="5")
    assert page.answers.score == 5
    with pytest.raises(ConflictError, match="already answered"):
        responses.open_page(store.uow, store.links, token, now=T0 + window, score="9")
    with pytest.raises(ConflictError, match="already answered"):
        responses.submit_page(store.uow, store.links, token, {"score": ["9"]}, now=T0 + window)
    assert [r["score"] for r in store.rows("survey_responses")] == [5]
    unanswered = store.links.token(_send(store, customer="c3"))
    definitions.archive(store.uow, "post-delivery-nps", now=T0)
    with pytest.raises(ConflictError, match="closed"):
        responses.open_page(store.uow, store.links, unanswered, now=T0)


def test_a_preview_shows_every_stage_and_stores_nothing(store: Store) -> None:
    applied = definitions.apply(store.uow, parse_survey(NPS_DOC), now=T0)
    token = sign_preview_link(KEY, PreviewLink(applied.survey.survey_id, 1, "de"), expires_at=T0 + timedelta(1))
    first = responses.open_page(store.uow, store.links, token, now=T0)
    scored = responses.open_page(store.uow, store.links, token, now=T0, score="3")
    done = responses.submit_page(store.uow, store.links, token, {"score": ["3"], "dim_shipping": ["5"]}, now=T0)
    bad = responses.submit_page(store.uow, store.links, token, {"score": ["x"]}, now=T0)
    assert (first.stage, scored.stage, done.stage) == ("question", "follow_up", "thanks")
    assert first.preview and first.locale == "de" and scored.answers.score == 3 and bad.errors
    assert store.rows("survey_responses") == [] and store.rows("events") == [] and store.rows("survey_sends") == []
    with pytest.raises(TokenError) as caught:
        responses.open_page(store.uow, store.links, token, now=T0 + timedelta(days=1))
    assert caught.value.reason == "expired"


def test_the_customers_locale_then_the_browsers_choose_the_language(store: Store) -> None:
    swiss = store.links.token(_send(store, customer="c2"))
    assert responses.open_page(store.uow, store.links, swiss, now=T0).locale == "de_CH"
    plain = store.links.token(_send(store, customer="c3"))
    page = responses.open_page(store.uow, store.links, plain, now=T0, preferred_locales=["fr", "de_AT", "en"])
    assert page.locale == "de"


def test_a_review_is_pending_after_every_save_and_announced_once(store: Store) -> None:
    send = _send(store, REVIEW_DOC, product_id="P1", order_id="o0")
    token = store.links.token(send)
    page = responses.open_page(store.uow, store.links, token, now=T0, score="4")
    assert page.product_name == "Grinder 1" and page.stage == "follow_up"
    responses.submit_page(
        store.uow, store.links, token, {"score": ["5"], "title": ["Great"], "comment": ["Fine."]}, now=T0
    )
    [review] = _reviews(store)
    assert (review.rating, review.title, review.body, review.status, review.incentivised) == (
        5,
        "Great",
        "Fine.",
        "pending",
        True,
    )
    [event] = store.rows("events")
    assert event["name"] == "review.submitted" and json.loads(event["properties"])["product_id"] == "P1"
    assert store.rows("survey_responses") == []


def _reviews(store: Store) -> list[Any]:
    with store.uow() as u:
        return u.surveys.list_reviews()
