"""Surveys and reviews over the API (docs/surveys.md).

* ``/v1/surveys``: list (with each survey's response rate); ``/v1/surveys/{id or name}``: read,
  apply with ``PUT`` (the body is the survey document, the JSON form of a survey YAML file: 201
  created, 200 changed or unchanged), archive with ``DELETE``; ``POST .../preview`` gives a link to
  the page that stores nothing.
* Analysis of one survey's answers (the survey's name as stored in ``survey_responses``):
  ``.../report`` (scores per period with 95 % intervals), ``.../drivers``, ``.../themes``,
  ``.../remeasure?before=FROM:TO&after=FROM:TO``. They share the analytics slots (429 when busy).
* ``/v1/reviews``: list (cursor pages, ``status``, ``product_id``); ``POST /v1/reviews/{id}/moderation``
  (``action`` publish | reject | pending, optional ``note`` and ``incentivised``);
  ``/v1/reviews/export``: published reviews per product with schema.org JSON-LD.

Reads need the ``read`` scope, writes ``admin``. The public pages (``/s/{token}``) are
``entrypoints/web/surveys.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from aftersales.core.errors import FieldError, ValidationError
from aftersales.entrypoints.api.deps import get_uow, require_scope
from aftersales.entrypoints.api.problems import located
from aftersales.entrypoints.api.routers.analytics import analytics_slots, busy_response, plain_json
from aftersales.entrypoints.api.schemas import KEY_PATTERN, PageCursor
from aftersales.services.analytical import surveys as analysis
from aftersales.services.operational.surveys import definitions, reviews
from aftersales.services.ports import UnitOfWorkFactory

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["surveys"])
reader = [Depends(require_scope("read"))]
admin = [Depends(require_scope("admin"))]
BUSY: dict[int | str, dict[str, Any]] = {429: {"description": "Too many analytics requests running"}}
SurveyRef = Annotated[str, Path(min_length=1, max_length=255, pattern=KEY_PATTERN, description="srv_... or the name")]
Document = Annotated[dict[str, Any], Body(description="A survey document (the JSON form of a survey YAML file).")]
From = Annotated[date | None, Query(alias="from", description="First day (ISO date)")]
To = Annotated[date | None, Query(alias="to", description="Day after the last (ISO date)")]


class ModerationIn(BaseModel):
    action: Literal["publish", "reject", "pending"]
    note: str | None = Field(default=None, max_length=2000)
    incentivised: bool | None = None


def _survey(s: definitions.StoredSurvey) -> dict[str, Any]:
    return plain_json(asdict(s))  # type: ignore[no-any-return]


@router.get("/surveys", dependencies=reader, summary="List surveys with their response rates")
def list_surveys(uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    """Surveys in name order, each with its sends, answers and response rate (95% Wilson interval)."""
    rates = {r.survey: r for r in analysis.response_rates(uow)}
    items = []
    for s in definitions.list_surveys(uow):
        rate = rates.get(s.name)
        items.append({**_survey(s), "response_rate": plain_json(asdict(rate)) if rate else None})
    return {"items": items}


@router.get("/surveys/{ref}", dependencies=reader, summary="A survey with its sends by status")
def get_survey(ref: SurveyRef, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    return _survey(definitions.get(uow, ref))


@router.put("/surveys/{ref}", dependencies=admin, summary="Apply a survey document", status_code=200)
def put_survey(
    ref: SurveyRef, document: Document, response: Response, uow: UnitOfWorkFactory = Depends(get_uow)
) -> Any:
    """Create the survey named in the URL (201) or store a new version when the document changed (200)."""
    try:
        survey = definitions.parse_document(document)
    except ValidationError as exc:
        raise located(exc, "body") from exc
    if survey.name != ref:
        message = f"the document names survey {survey.name!r}, the URL {ref!r}"
        raise ValidationError(message, [FieldError(("body", "name"), message)])
    done = definitions.apply(uow, survey, now=datetime.now(UTC))
    response.status_code = 201 if done.outcome == "created" else 200
    return {"outcome": done.outcome, "previous_version": done.previous_version, "survey": _survey(done.survey)}


@router.delete("/surveys/{ref}", dependencies=admin, summary="Archive a survey")
def archive_survey(ref: SurveyRef, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    return _survey(definitions.archive(uow, ref, now=datetime.now(UTC)))


@router.post("/surveys/{ref}/preview", dependencies=reader, summary="A preview link that stores nothing")
def preview_survey(
    ref: SurveyRef,
    request: Request,
    locale: Annotated[str, Query(min_length=2, max_length=35, description="The language to preview")] = "en",
    uow: UnitOfWorkFactory = Depends(get_uow),
) -> Any:
    """A link to the survey's current version as a respondent sees it in `locale`, valid for a day."""
    survey = definitions.get(uow, ref)
    links = request.app.state.survey_links()
    return {"url": links.preview_url(survey.survey_id, survey.version, locale, datetime.now(UTC))}


def _analysed(request: Request, run: Callable[[Any], Any]) -> Any:
    with analytics_slots(request.app).slot() as free:
        if not free:
            return busy_response(request)
        try:
            with request.app.state.plane.open_source() as src:
                return plain_json(run(src))
        except ValidationError as exc:
            raise located(exc, "query") from exc


@router.get("/surveys/{ref}/report", dependencies=reader, summary="A survey's scores per period", responses=BUSY)
def survey_report(
    ref: SurveyRef,
    request: Request,
    period: Annotated[Literal["day", "week", "month", "quarter", "year"], Query()] = "month",
    start: From = None,
    end: To = None,
    dimension: Annotated[str, Query(max_length=40, pattern=r"^[^\x00-\x1f\x7f]+$")] = "overall",
    uow: UnitOfWorkFactory = Depends(get_uow),
) -> Any:
    """The survey's score per period with its 95% interval (NPS: Wald; CSAT: Wilson; CES: t)."""
    stored = definitions.get(uow, ref)
    if stored.kind not in analysis.SCORE_KINDS:
        raise ValidationError(f"survey {stored.name!r} is a review survey: see /v1/reviews/export for its ratings")
    points = _analysed(
        request,
        lambda src: [
            asdict(p)
            for p in analysis.score_trends(
                src, stored.kind, survey=stored.name, period=period, start=start, end=end, dimension=dimension
            )
        ],
    )
    return points if isinstance(points, Response) else {"survey": stored.name, "kind": stored.kind, "points": points}


@router.get("/surveys/{ref}/drivers", dependencies=reader, summary="What drives a survey's score", responses=BUSY)
def survey_drivers(
    ref: SurveyRef,
    request: Request,
    dimension: Annotated[list[str] | None, Query(max_length=12, description="Only these dimensions")] = None,
    start: From = None,
    end: To = None,
) -> Any:
    """The regression of the overall score on the dimension scores: estimates, 95% intervals, shares, words."""
    from aftersales.services.analytical.surveys_drivers import survey_drivers as run

    def drivers(src: Any) -> dict[str, Any]:
        found = run(src, ref, dimensions=dimension, start=start, end=end)
        d = found.drivers
        return {
            "survey": ref, "n": d.n, "incomplete": found.incomplete, "r_squared": d.r_squared,
            "residual_sd": d.residual_sd, "intercept": asdict(d.intercept),
            "coefficients": [asdict(c) for c in d.coefficients], "summary": d.summary(),
        }  # fmt: skip

    return _analysed(request, drivers)


@router.get("/surveys/{ref}/themes", dependencies=reader, summary="Themes in a survey's comments", responses=BUSY)
def survey_themes(
    ref: SurveyRef,
    request: Request,
    themes: Annotated[int, Query(ge=1, le=50, description="How many themes")] = 8,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    start: From = None,
    end: To = None,
) -> Any:
    """Themes (top terms, counts, share, average score, sentiment, examples, trend) of the comments."""
    from aftersales.services.analytical.surveys_text import comment_themes

    def run(src: Any) -> dict[str, Any]:
        found = comment_themes(src, survey=ref, n_themes=themes, seed=seed, start=start, end=end)
        return {"comments": found.comments, "unthemed": found.unthemed, "themes": [asdict(t) for t in found.themes]}

    return _analysed(request, run)


@router.get("/surveys/{ref}/remeasure", dependencies=reader, summary="A score's change between two periods")
def survey_remeasure(
    ref: SurveyRef,
    request: Request,
    before: Annotated[str, Query(pattern=r"^\d{4}-\d{2}-\d{2}:\d{4}-\d{2}-\d{2}$", description="FROM:TO")],
    after: Annotated[str, Query(pattern=r"^\d{4}-\d{2}-\d{2}:\d{4}-\d{2}-\d{2}$", description="FROM:TO")],
    uow: UnitOfWorkFactory = Depends(get_uow),
) -> Any:
    """The change after − before with its 95% interval, through the experiment engine."""
    stored = definitions.get(uow, ref)

    def span(text: str, name: str) -> tuple[date, date]:
        a, b = text.split(":")
        try:
            return date.fromisoformat(a), date.fromisoformat(b)
        except ValueError:
            raise ValidationError(f"{name}: not two dates", [FieldError((name,), "not two dates")]) from None

    def run(src: Any) -> dict[str, Any]:
        r = analysis.remeasure(src, stored.kind, span(before, "before"), span(after, "after"), survey=stored.name)
        return {**asdict(r), "summary": r.plain()}

    return _analysed(request, run)


@router.get("/reviews", dependencies=reader, summary="List reviews")
def list_reviews(
    status: Annotated[Literal["pending", "published", "rejected"] | None, Query()] = None,
    product_id: Annotated[str | None, Query(max_length=255, pattern=KEY_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: PageCursor = None,
    uow: UnitOfWorkFactory = Depends(get_uow),
) -> Any:
    page = reviews.list_reviews(uow, status=status, product_id=product_id, cursor=cursor, limit=limit)
    return {"items": [asdict(r) for r in page.items], "next_cursor": page.next_cursor}


@router.get("/reviews/export", dependencies=reader, summary="Published reviews per product, with JSON-LD")
def export_reviews(
    product_id: Annotated[list[str] | None, Query(max_length=1000)] = None,
    seller: Annotated[str, Query(max_length=200)] = "the seller",
    uow: UnitOfWorkFactory = Depends(get_uow),
) -> Any:
    """One document per product: its published reviews (incentivised ones disclosed) and schema.org
    `Product` JSON-LD with `AggregateRating` and `Review` items for the product page."""
    if any(not re.fullmatch(KEY_PATTERN, p) for p in product_id or ()):
        message = "a product id must not be empty or hold '/' or control characters"
        raise ValidationError(message, [FieldError(("query", "product_id"), message)])
    return {"products": reviews.export(uow, product_ids=product_id, seller=seller)}


@router.post("/reviews/{review_id}/moderation", dependencies=admin, summary="Publish, reject or re-open a review")
def moderate_review(
    review_id: Annotated[str, Path(max_length=255, pattern=KEY_PATTERN)],
    body: ModerationIn,
    uow: UnitOfWorkFactory = Depends(get_uow),
) -> Any:
    done = reviews.moderate(
        uow, review_id, body.action, now=datetime.now(UTC), note=body.note, incentivised=body.incentivised
    )
    return asdict(done)
