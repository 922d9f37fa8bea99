"""Analytics reads: retention metrics (``services.metrics``) and stored CLV scores (``services.scores``).

Metrics and the refresh are CPU-bound and synchronous: the routes are plain ``def`` functions, which
FastAPI runs in its worker threadpool, so the event loop keeps serving other requests meanwhile.
Each metrics request opens its own analytical source on the store (DuckDB over a SQLite store,
PostgreSQL itself otherwise), so concurrent requests share no engine connection.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from aftersales import bootstrap
from aftersales.core.clv.options import ClvOptions
from aftersales.core.clv.value import RiskTier
from aftersales.core.errors import FieldError, ValidationError
from aftersales.core.metrics.registry import METRICS
from aftersales.entrypoints.api.analytics_schemas import MetricsOut, RefreshIn, RefreshOut, ScoreOut, ScorePage
from aftersales.entrypoints.api.deps import get_uow, require_scope
from aftersales.entrypoints.api.schemas import KEY_PATTERN, PageCursor, PageLimit
from aftersales.services import metrics as metrics_service
from aftersales.services import scores
from aftersales.services.ports import UnitOfWorkFactory

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["analytics"])
reader = [Depends(require_scope("read"))]
EARLIEST, LATEST = date(1900, 1, 1), date(2200, 12, 31)


def _plain(value: Any) -> Any:
    """JSON-ready: NaN and infinities as null, numpy scalars as Python numbers."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def _check_query(names: list[str], start: date | None, end: date | None) -> None:
    errors = [
        FieldError(("query", "name"), f"unknown metric {n!r}; known: {', '.join(METRICS)}")
        for n in names
        if n not in METRICS
    ]
    for loc, d in (("from", start), ("to", end)):
        if d is not None and not EARLIEST <= d <= LATEST:
            errors.append(FieldError(("query", loc), f"must lie between {EARLIEST} and {LATEST}"))
    if start is not None and end is not None and start >= end:
        errors.append(FieldError(("query", "from"), "must be before `to`"))
    if errors:
        raise ValidationError(f"{len(errors)} invalid field(s)", errors)


def _located(exc: ValidationError, by: str | None) -> ValidationError:
    """A service's validation error, with the query parameter it is about."""
    if exc.errors:
        return exc
    text = str(exc)
    if by is not None and repr(by) in text:
        field = "by"
    elif "periods from" in text:
        field = "period"
    elif "date range" in text:
        field = "from"
    elif "--to" in text:
        field = "to"
    else:
        return ValidationError(text, [FieldError(("query",), text)])
    return ValidationError(text, [FieldError(("query", field), text)])


@router.get("/metrics", response_model=MetricsOut, dependencies=reader, summary="Retention metrics")
def metrics(
    request: Request,
    name: Annotated[list[str] | None, Query(max_length=50, description="Metric (repeatable); none: scorecard")] = None,
    period: Literal["day", "week", "month", "quarter", "year"] = "month",
    start: Annotated[date | None, Query(alias="from", description="First day (ISO date)")] = None,
    end: Annotated[date | None, Query(alias="to", description="Day after the last (ISO date)")] = None,
    by: Annotated[str | None, Query(min_length=1, max_length=100, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] = None,
) -> Any:
    """The records of `aftersales metrics --format json`: with no `name`, the headline scorecard for the
    last complete period before `to` (`from` does not apply); else each named metric per period from
    `from` to `to` (defaults: a year of complete periods before the last order's period)."""
    names = list(dict.fromkeys(name or []))
    _check_query(names, start, end)
    tz = bootstrap.settings().reporting_timezone
    try:
        with request.app.state.plane.open_source() as src:
            if names:
                result = metrics_service.compute(src, names, period=period, start=start, end=end, tz=tz, by=by)
            else:
                cards = metrics_service.scorecard(src, period=period, as_of=end, tz=tz, by=by)
                result = metrics_service.MetricsResult(cards)
    except ValidationError as exc:
        raise _located(exc, by) from exc
    return {"data": _plain(result.records), "errors": result.errors}


@router.get(
    "/customers/{customer_id}/scores", response_model=ScoreOut, dependencies=reader, summary="A customer's scores"
)
def customer_scores(
    customer_id: Annotated[str, Path(min_length=1, max_length=255, pattern=KEY_PATTERN)],
    uow: UnitOfWorkFactory = Depends(get_uow),
) -> Any:
    """The customer's stored CLV score and churn-risk tier from the last refresh (404 when none)."""
    return _plain(asdict(scores.customer_scores(uow, customer_id)))


@router.get("/scores", response_model=ScorePage, dependencies=reader, summary="List stored scores")
def list_scores(
    risk_tier: RiskTier | None = None,
    limit: PageLimit = 100,
    cursor: PageCursor = None,
    uow: UnitOfWorkFactory = Depends(get_uow),
) -> Any:
    """Stored scores in customer_id order, optionally of one risk tier (cursor pagination)."""
    return _plain(scores.scores_page(uow, risk_tier=risk_tier, limit=limit, cursor=cursor))


@router.post(
    "/scores/refresh",
    response_model=RefreshOut,
    dependencies=[Depends(require_scope("admin"))],
    summary="Refresh every customer's CLV score",
)
def refresh(request: Request, body: RefreshIn | None = None, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    """Fit the purchase model on the store's orders, score every customer, store the scores, and queue
    `customer.churn_risk_changed` webhooks for tiers that changed. Returns counts and the fit."""
    given = body or RefreshIn()
    options = ClvOptions(
        model=given.model,
        spend=given.spend,
        horizon=given.horizon,
        discount=given.discount,
        margin=given.margin,
        time_unit=given.time_unit,
    )
    result = bootstrap.refresh_scores(request.app.state.plane.url, uow=uow, options=options)
    if result.webhooks_queued:
        request.app.state.plane.dispatcher.wake()
    return _plain(result.as_dict())
