"""The survey response pages: ``/s/{token}``, public, server-rendered, no JavaScript (docs/surveys.md).

* ``GET /s/{token}`` shows the survey (or, once a score is stored, the follow-ups pre-filled: a partly
  answered survey resumes); ``GET /s/{token}?score=8`` records an 8 first (the scale in the e-mail:
  one click answers). ``HEAD`` records nothing.
* ``POST /s/{token}`` saves the form (``application/x-www-form-urlencoded``: ``score``,
  ``dim_<id>``, ``comment``, ``title``) and shows the thank-you page; a second submit updates the
  same response. A form with an invalid answer comes back with 422, each problem next to its
  question, and nothing stored.
* A refused link gets a page saying which, storing nothing: an invalid link (malformed, altered,
  another instance's, another purpose's, or not matching its send) 400, an expired one 410, a survey
  already answered (its edit window passed) or closed (archived) 409.
* An author's preview link (``aftersales surveys preview``) shows the same pages and stores nothing.

The pages speak the customer's locale (``customers.locale``, else the browser's ``Accept-Language``,
else the survey's default): the survey's texts from its definition, the pages' own words from the
gettext catalogues in ``locales/`` (:mod:`.i18n`). Headers as on the unsubscribe pages: no-store, no
referrer (the token must not leak), a CSP allowing no script and forms to this origin only.
:class:`SurveyPages` is ASGI middleware the API app installs outside its authentication (the signed
token is the credential), sending ``/s/...`` here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from aftersales.core.errors import TokenError
from aftersales.entrypoints.web.i18n import environment, gettext, long_date, page_language
from aftersales.entrypoints.web.pages import HEADERS
from aftersales.services.operational.surveys.links import PAGE_PREFIX, SurveyLinks
from aftersales.services.operational.surveys.responses import Page, SurveyClosed, open_page, submit_page
from aftersales.services.ports import UnitOfWorkFactory

__all__ = ["SurveyPages", "accepted_languages", "survey_pages_app"]

# Default scale labels per kind, when a survey names none (translated like every page word).
_ENDS = {
    "nps": ("Not at all likely", "Extremely likely"),
    "csat": ("Very dissatisfied", "Very satisfied"),
    "ces": ("Very difficult", "Very easy"),
    "review": ("Poor", "Excellent"),
}
# The follow-up dimensions rate one aspect: their ends say how good it was (CES: how easy).
_DIMENSION_ENDS = {"ces": ("Very difficult", "Very easy")}
_RATING_ENDS = ("Very poor", "Excellent")
_REFUSALS = {
    "invalid": (400, "This link does not work", "This link is not valid. It may have been changed or cut short."),
    "expired": (410, "This link has expired", "This survey link is no longer valid. Thank you for your interest."),
    "answered": (409, "Already answered", "This survey was already answered. Thank you for your feedback!"),
    "closed": (409, "This survey is closed", "This survey no longer takes answers. Thank you for your interest."),
}


def accepted_languages(header: str) -> list[str]:
    """The languages of an ``Accept-Language`` header, most wanted first (``q=0`` dropped).

    >>> accepted_languages("de-CH, fr;q=0.5, en;q=0.8, *;q=0.1, it;q=0")
    ['de_CH', 'en', 'fr']
    """
    found: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and q > 0 and len(tag) <= 35:
            found.append((-q, i, tag.replace("-", "_")))
    return [tag for _, _, tag in sorted(found)]


async def _form(request: Request) -> Mapping[str, list[str]]:
    body = await request.body()
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True) if body else {}


def _render(name: str, language: str, status: int, **context: Any) -> HTMLResponse:
    html = environment(language).get_template(name).render(lang=language.replace("_", "-"), **context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _refused(kind: str, language: str) -> HTMLResponse:
    status, heading, message = _REFUSALS[kind]
    _ = gettext(language)
    return _render("survey_refused.html", language, status, heading=_(heading), message=_(message))


def _field_errors(page: Page, _: Callable[..., str]) -> dict[str, str]:
    """Each field's problem in the reader's language (the core's messages are English)."""
    low, high = page.survey.scale
    out: dict[str, str] = {}
    for error in page.errors:
        name = str(error.loc[0])
        if "answer this question" in error.message:
            out[name] = _("Please answer this question.")
        elif name == "score" or name.startswith("dim_"):
            out[name] = _("Choose a number from %(low)s to %(high)s.", low=low, high=high)
        else:
            out[name] = _("This text cannot be saved: it is too long or holds unusual characters.")
    return out


def _page_response(page: Page, action: str, saved: bool) -> HTMLResponse:
    survey = page.survey
    language = page_language(page.locale)
    _ = gettext(language)
    until = long_date(page.editable_until.date(), language) if page.editable_until else None
    if page.stage == "thanks":
        thanks = survey.text(survey.thank_you, page.locale) if survey.thank_you else _("Thank you for your feedback!")
        return _render(
            "survey_thanks.html", language, 200, preview=page.preview, thank_you=thanks, editable_until=until,
            action=action,
        )  # fmt: skip
    low, high = survey.scale
    ends = survey.labels_for(page.locale) or tuple(_(t) for t in _ENDS[survey.kind])
    dimensions = [
        {
            "field": f"dim_{d.id}",
            "question": survey.text(d.question, page.locale),
            "required": d.required,
            "value": page.answers.dimensions.get(d.id),
        }
        for d in survey.dimensions
    ]
    title: str | None
    comment: str | None
    if survey.is_review:
        title = survey.text(survey.title_label, page.locale) if survey.title_label else _("Title")
        comment = survey.text(survey.comment, page.locale) if survey.comment else _("Your review")
    else:
        title, comment = None, survey.text(survey.comment, page.locale) if survey.comment else None
    return _render(
        "survey_form.html",
        language,
        422 if page.errors else 200,
        preview=page.preview,
        product=page.product_name if survey.is_review else None,
        question=survey.text(survey.question, page.locale),
        points=range(low, high + 1),
        stars=survey.is_review,
        low_label=ends[0],
        high_label=ends[1],
        dim_low=_(_DIMENSION_ENDS.get(survey.kind, _RATING_ENDS)[0]),
        dim_high=_(_DIMENSION_ENDS.get(survey.kind, _RATING_ENDS)[1]),
        answers=page.answers,
        dimensions=dimensions,
        title_label=title,
        comment_label=comment,
        errors=_field_errors(page, _),
        saved=saved,
        editable_until=until,
        action=action,
    )


def survey_pages_app(uow: UnitOfWorkFactory, links: Callable[[], SurveyLinks]) -> Starlette:
    """The pages on ``uow``; ``links`` gives the signer (called on first use, then kept)."""
    lock = threading.Lock()
    made: list[SurveyLinks] = []

    def signer() -> SurveyLinks:
        with lock:
            if not made:
                made.append(links())
            return made[0]

    async def page(request: Request) -> HTMLResponse:
        token = request.path_params["token"]
        now = datetime.now(UTC)
        wanted = accepted_languages(request.headers.get("accept-language", ""))
        fallback = page_language(wanted[0] if wanted else None)
        action = token  # relative to /s/: the form posts back to this page, without the score
        try:
            if request.method == "POST":
                form = await _form(request)
                found = await run_in_threadpool(
                    lambda: submit_page(uow, signer(), token, form, now=now, preferred_locales=wanted)
                )
                return _page_response(found, action, saved=False)
            score = request.query_params.get("score") if request.method == "GET" else None
            found = await run_in_threadpool(
                lambda: open_page(uow, signer(), token, now=now, score=score, preferred_locales=wanted)
            )
            return _page_response(found, action, saved=score is not None and not found.errors)
        except TokenError as exc:
            return _refused("expired" if exc.reason == "expired" else "invalid", fallback)
        except SurveyClosed as exc:
            return _refused(exc.reason, fallback)

    return Starlette(routes=[Route(PAGE_PREFIX + "{token}", page, methods=["GET", "POST"])])


class SurveyPages:
    """ASGI middleware: requests under ``/s/`` go to ``pages``, everything else to ``app``. Install it
    outside the API's authentication (these pages authenticate by their signed token)."""

    def __init__(self, app: ASGIApp, pages: ASGIApp) -> None:
        self.app, self.pages = app, pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PAGE_PREFIX):
            await self.pages(scope, receive, send)
            return
        await self.app(scope, receive, send)
