"""The response page's use cases: open a link (maybe with a score), submit the follow-ups, preview.

**Links.** ``open_page(token, score)`` reads the token (``core/surveys/links.py``), then, in one
transaction holding the send's row (``FOR UPDATE`` on PostgreSQL), checks that the stored send agrees
with the token (customer, survey, version: otherwise the token is *foreign* and refused like a
tampered one), that the survey is not archived and that the answer is not closed (its edit window
has passed). A score in the link is recorded at once; the page then shows the follow-ups, pre-filled
with what is stored, so a partly answered survey resumes where it stopped.

**Refusals** raise, storing nothing: :class:`~aftersales.core.errors.TokenError` with ``reason``
``expired`` for an expired link, any other reason (``malformed``, ``bad_signature``,
``wrong_purpose``, ``foreign``) for an invalid one, and :class:`SurveyClosed` (a ``ConflictError``) when the survey
is archived (``closed``) or the answer can no longer change (``answered``).

**Answers** of NPS, CSAT and CES surveys are the contract's ``survey_responses`` rows of one response
(``rsp_`` + the send's hash): the headline as ``overall`` (with the comment) and one row per answered
dimension; every save replaces them all, so a resubmit updates the one response. ``responded_at``
stays the first answer's time. The first answer writes a ``survey.responded`` event (events table,
id ``survey:<response id>``, written once) and queues the ``survey.responded`` webhook; later saves
queue ``survey_response.updated``. A review is one ``product_reviews`` row (``rev_`` + the send's
hash), pending moderation after every save; its first save writes a ``review.submitted`` event.

**Preview** (a ``survey_preview`` token) renders the same pages from the survey's version and stores
nothing, whatever is clicked or sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal

from aftersales.core.errors import ConflictError, FieldError, TokenError, ValidationError
from aftersales.core.events import RESOURCE_EVENTS, REVIEW_SUBMITTED
from aftersales.core.surveys.answers import Answers, is_closed, merge, read_form, read_score
from aftersales.core.surveys.links import SurveyLink
from aftersales.core.surveys.model import OVERALL, Survey
from aftersales.core.surveys.reviews import edited
from aftersales.services.operational import webhooks
from aftersales.services.operational.surveys.definitions import survey_of, survey_version
from aftersales.services.operational.surveys.links import SurveyLinks
from aftersales.services.ports import UnitOfWork, UnitOfWorkFactory
from aftersales.services.ports_surveys import ReviewRecord, SendRecord

__all__ = ["Page", "SurveyClosed", "open_page", "submit_page"]

RESPONDED, UPDATED = RESOURCE_EVENTS["survey_responses"]
Form = Mapping[str, Sequence[str]]


class SurveyClosed(ConflictError):
    """The link is valid but takes no answer: ``reason`` is ``answered`` (the edit window since the
    first answer has passed) or ``closed`` (the survey is archived)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Page:
    """What the page shows: the survey (its version), the reader's locale, the stored (or previewed)
    answers, the stage, field errors, and (reviews) the product's name."""

    survey: Survey
    locale: str
    token: str
    answers: Answers
    stage: Literal["question", "follow_up", "thanks"]
    preview: bool = False
    errors: tuple[FieldError, ...] = ()
    product_name: str | None = None
    editable_until: datetime | None = None


def _response_id(send_id: str) -> str:
    return "rsp_" + send_id.removeprefix("snd_")


def _review_id(send_id: str) -> str:
    return "rev_" + send_id.removeprefix("snd_")


def _read(links: SurveyLinks, token: str, now: datetime) -> SurveyLink | None:
    """The invitation, or ``None`` for a valid preview token; ``TokenError`` otherwise."""
    try:
        return links.read(token, now)
    except TokenError as exc:
        if exc.reason != "wrong_purpose":
            raise
        try:
            links.read_preview(token, now)
        except TokenError as preview:
            raise (exc if preview.reason == "wrong_purpose" else preview) from None
        return None


def _checked_send(u: UnitOfWork, link: SurveyLink, now: datetime, lock: bool) -> tuple[SendRecord, Survey, str | None]:
    """The send the link names, its survey version and the customer's locale, after the checks."""
    opened = u.surveys.open_link(link.send_id, for_update=lock)
    send = opened.send if opened is not None else None
    if (
        opened is None
        or send is None
        or (send.customer_id, send.survey_id, send.version)
        != (
            link.customer_id,
            link.survey_id,
            link.version,
        )
    ):
        raise TokenError("the link does not belong to a survey sent from here", "foreign")
    if opened.survey_status != "active":
        raise SurveyClosed("this survey is closed", "closed")
    survey = survey_of(opened.definition_json)
    if is_closed(survey, send.first_answered_at, now):
        raise SurveyClosed("this survey was already answered", "answered")
    return send, survey, opened.customer_locale


def _stored(u: UnitOfWork, survey: Survey, send: SendRecord) -> Answers:
    if survey.is_review:
        review = u.surveys.review_of_send(send.send_id)
        return Answers(review.rating, comment=review.body, title=review.title) if review else Answers()
    rows = u.surveys.response_rows(_response_id(send.send_id))
    overall = next((r for r in rows if r["dimension"] == OVERALL), None)
    dims = {r["dimension"]: int(r["score"]) for r in rows if r["dimension"] != OVERALL}
    if overall is None:
        return Answers(dimensions=MappingProxyType(dims))
    return Answers(int(overall["score"]), MappingProxyType(dims), overall["comment"])


def _locale(customer_locale: str | None, survey: Survey, preferred: Sequence[str]) -> str:
    from babel import Locale, UnknownLocaleError

    if customer_locale:
        return customer_locale
    if not preferred:
        return survey.default_locale
    try:
        found = Locale.negotiate(list(preferred), sorted(survey.question), sep="_")
    except (ValueError, UnknownLocaleError):
        found = None
    return str(found) if found is not None else survey.default_locale


def _publish(u: UnitOfWork, survey: Survey, send: SendRecord, answers: Answers, first: bool, at: datetime) -> None:
    rid = _review_id(send.send_id) if survey.is_review else _response_id(send.send_id)
    data: dict[str, Any] = {
        "response_id": rid,
        "survey_id": survey.name,
        "kind": survey.kind,
        "customer_id": send.customer_id,
        "order_id": send.order_id,
        "score": answers.score,
    }
    if survey.is_review:
        if first:
            props = json.dumps({**data, "product_id": send.product_id}, sort_keys=True, separators=(",", ":"))
            u.events.insert_new([(f"review:{rid}", send.customer_id, None, REVIEW_SUBMITTED, at, props)])
        return
    data["dimensions"] = dict(answers.dimensions)
    if first:
        props = json.dumps(data, sort_keys=True, separators=(",", ":"))
        u.events.insert_new([(f"survey:{rid}", send.customer_id, None, RESPONDED, at, props)])
    webhooks.publish(u, RESPONDED if first else UPDATED, {**data, "comment": answers.comment})


def _save(
    u: UnitOfWork, survey: Survey, send: SendRecord, answers: Answers, *, now: datetime, from_form: bool, locale: str
) -> None:
    first = send.first_answered_at is None
    responded_at = send.first_answered_at or now
    if survey.is_review:
        assert answers.score is not None and send.product_id is not None
        old = u.surveys.review_of_send(send.send_id)
        u.surveys.save_review(
            ReviewRecord(
                _review_id(send.send_id), send.send_id, send.survey_id, send.customer_id, send.product_id,
                send.order_id, answers.score, answers.title, answers.comment, locale,
                edited(old.status) if old else "pending", old.incentivised if old else survey.incentivised,
                old.created_at if old else now, now,
                old.moderated_at if old else None, old.moderation_note if old else None, None,
            )
        )  # fmt: skip
    else:
        common = {
            "response_id": _response_id(send.send_id),
            "survey_id": survey.name,
            "customer_id": send.customer_id,
            "order_id": send.order_id,
            "kind": survey.kind,
            "responded_at": responded_at,
        }
        rows = [{**common, "dimension": OVERALL, "score": answers.score, "comment": answers.comment}]
        rows += [{**common, "dimension": d, "score": v, "comment": None} for d, v in answers.dimensions.items()]
        u.surveys.replace_response(str(common["response_id"]), rows if answers.score is not None else [])
    rid = _review_id(send.send_id) if survey.is_review else _response_id(send.send_id)
    changes: dict[str, Any] = {"updated_at": now, "response_id": rid}
    if first:
        changes["first_answered_at"] = now
    if from_form:
        changes |= {"status": "answered", "answered_at": now}
    elif send.status == "sent":
        changes["status"] = "partial"
    u.surveys.update_send(send.send_id, changes)
    _publish(u, survey, send, answers, first, now)


def _product_name(u: UnitOfWork, send: SendRecord) -> str | None:
    if send.product_id is None:
        return None
    return u.surveys.product_names([send.product_id]).get(send.product_id) or send.product_id


def _preview(
    uow: UnitOfWorkFactory, links: SurveyLinks, token: str, now: datetime, score: str | None, form: Form | None
) -> Page:
    found = links.read_preview(token, now)
    with uow() as u:
        survey = survey_version(u, found.survey_id, found.version)
    locale = found.locale or survey.default_locale
    base = Page(survey, locale, token, Answers(), "question", preview=True, product_name="(product)")
    try:
        if form is not None:
            return replace(base, answers=read_form(survey, form), stage="thanks")
        if score is not None:
            return replace(base, answers=Answers(read_score(survey, score)), stage="follow_up")
    except ValidationError as exc:
        return replace(base, errors=tuple(exc.errors), stage="follow_up" if form else "question")
    return base


def open_page(
    uow: UnitOfWorkFactory,
    links: SurveyLinks,
    token: str,
    *,
    now: datetime,
    score: str | None = None,
    preferred_locales: Sequence[str] = (),
) -> Page:
    """The page a link opens; a score in the link is recorded (see the module)."""
    link = _read(links, token, now)
    if link is None:
        return _preview(uow, links, token, now, score, None)
    with uow() as u:
        send, survey, customer_locale = _checked_send(u, link, now, lock=score is not None)
        stored = _stored(u, survey, send)
        locale = _locale(customer_locale, survey, preferred_locales)
        product = _product_name(u, send)
        page = Page(survey, locale, token, stored, "question", product_name=product)
        if score is not None:
            try:
                value = read_score(survey, score)
            except ValidationError as exc:
                return replace(page, errors=tuple(exc.errors))
            stored = merge(stored, Answers(value), from_form=False)
            _save(u, survey, send, stored, now=now, from_form=False, locale=locale)
        until = (send.first_answered_at or now) + survey.edit_window if stored.score is not None else None
        stage: Literal["question", "follow_up"] = "follow_up" if stored.score is not None else "question"
        return replace(page, answers=stored, stage=stage, editable_until=until)


def submit_page(
    uow: UnitOfWorkFactory,
    links: SurveyLinks,
    token: str,
    form: Form,
    *,
    now: datetime,
    preferred_locales: Sequence[str] = (),
) -> Page:
    """Save the page's form (a resubmit replaces the answers); the thank-you page, or the form again
    with its field errors (nothing stored)."""
    link = _read(links, token, now)
    if link is None:
        return _preview(uow, links, token, now, None, form)
    with uow() as u:
        send, survey, customer_locale = _checked_send(u, link, now, lock=True)
        stored = _stored(u, survey, send)
        locale = _locale(customer_locale, survey, preferred_locales)
        page = Page(survey, locale, token, stored, "follow_up", product_name=_product_name(u, send))
        try:
            submitted = read_form(survey, form, stored_score=stored.score)
        except ValidationError as exc:
            return replace(page, errors=tuple(exc.errors), stage="question" if stored.score is None else "follow_up")
        answers = merge(stored, submitted, from_form=True)
        _save(u, survey, send, answers, now=now, from_form=True, locale=locale)
        return replace(page, answers=answers, stage="thanks")
