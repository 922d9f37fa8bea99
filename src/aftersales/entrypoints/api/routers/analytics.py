"""Analytics reads: retention metrics (``services.metrics``) and stored CLV scores (``services.scores``).

Metrics and the refresh are CPU-bound and synchronous: the routes are plain ``def`` functions, which
FastAPI runs in its worker threadpool, so the event loop keeps serving other requests meanwhile.
Each metrics request opens its own analytical source on the store (DuckDB over a SQLite store,
PostgreSQL itself otherwise), so concurrent requests share no engine connection.

Isolation (issue 12): six concurrent long metric requests took event ingestion from 9 ms to 921 ms
median, because compiling a wide query holds the GIL and the engines take every core. So at most
:data:`ANALYTICS_CONCURRENCY` analytics requests run at once per process; one more is refused at
once with 429 and ``Retry-After`` (never queued: a queue would hold threads and connections), and a
request may ask for at most ``MAX_PERIODS`` periods (422 naming ``period``). Ingestion, resources
and health checks take no slot.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from starlette.responses import Response

from aftersales import bootstrap
from aftersales.core.clv.options import ClvOptions
from aftersales.core.clv.value import RiskTier
from aftersales.core.errors import FieldError, ValidationError
from aftersales.core.metrics.periods import PeriodKind
from aftersales.core.metrics.registry import METRICS
from aftersales.entrypoints.api.analytics_schemas import MetricsOut, RefreshIn, RefreshOut, ScoreOut, ScorePage
from aftersales.entrypoints.api.deps import get_uow, require_scope
from aftersales.entrypoints.api.problems import PROBLEM_JSON, located, problem_body
from aftersales.entrypoints.api.schemas import KEY_PATTERN, PageCursor, PageLimit
from aftersales.services.analytical import metrics as metrics_service
from aftersales.services.analytical import scores
from aftersales.services.ports import UnitOfWorkFactory

__all__ = [
    "ANALYTICS_CONCURRENCY",
    "BUSY",
    "RETRY_AFTER_S",
    "AnalyticsSlots",
    "analytics_slots",
    "busy_response",
    "plain_json",
    "router",
]

router = APIRouter(prefix="/v1", tags=["analytics"])
reader = [Depends(require_scope("read"))]
EARLIEST, LATEST = date(1900, 1, 1), date(2200, 12, 31)
ANALYTICS_CONCURRENCY = 2  # per process: the machine's cores are shared with ingestion and the engines
RETRY_AFTER_S = 5
BUSY: dict[int | str, dict[str, Any]] = {429: {"description": "Too many analytics requests running (see Retry-After)"}}


class AnalyticsSlots:
    """At most ``limit`` analytics requests at once; :meth:`slot` yields False when none is free."""

    def __init__(self, limit: int = ANALYTICS_CONCURRENCY) -> None:
        self.limit = limit
        self._free = threading.BoundedSemaphore(limit)

    def try_acquire(self) -> bool:
        return self._free.acquire(blocking=False)

    def release(self) -> None:
        self._free.release()

    @contextmanager
    def slot(self) -> Iterator[bool]:
        acquired = self.try_acquire()
        try:
            yield acquired
        finally:
            if acquired:
                self.release()


_slots_lock = threading.Lock()


def analytics_slots(app: FastAPI) -> AnalyticsSlots:
    """The app's analytics slots (made on first use; one set per app and process)."""
    with _slots_lock:
        slots = getattr(app.state, "analytics_slots", None)
        if slots is None:
            slots = app.state.analytics_slots = AnalyticsSlots()
        return slots


def busy_response(request: Request) -> Response:
    """The 429 problem an analytics request gets when every slot is taken (with Retry-After)."""
    body = problem_body(
        429,
        f"{ANALYTICS_CONCURRENCY} analytics requests are already running; retry later",
        title="Too many requests",
        instance=request.url.path,
    )
    return Response(body, status_code=429, media_type=PROBLEM_JSON, headers={"Retry-After": str(RETRY_AFTER_S)})


def plain_json(value: Any) -> Any:
    """JSON-ready: NaN and infinities as null, numpy scalars as Python numbers."""
    if isinstance(value, dict):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v) for v in value]
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


@router.get("/metrics", response_model=MetricsOut, dependencies=reader, summary="Retention metrics", responses=BUSY)
def metrics(
    request: Request,
    name: Annotated[list[str] | None, Query(max_length=50, description="Metric (repeatable); none: scorecard")] = None,
    period: PeriodKind = "month",
    start: Annotated[date | None, Query(alias="from", description="First day (ISO date)")] = None,
    end: Annotated[date | None, Query(alias="to", description="Day after the last (ISO date)")] = None,
    by: Annotated[str | None, Query(min_length=1, max_length=100, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] = None,
) -> Any:
    """The records of `aftersales metrics --format json`: with no `name`, the headline scorecard of one
    period (`from` does not apply); else each named metric per period from `from` to `to`. Without
    `to`, the last period is the latest one holding orders, "to date" when it is not over; `periods`
    names each period shown and whether it is complete (each record also carries `complete`)."""
    names = list(dict.fromkeys(name or []))
    _check_query(names, start, end)
    tz = bootstrap.settings().reporting_timezone
    today = datetime.now(ZoneInfo(tz)).date()
    with analytics_slots(request.app).slot() as free:
        if not free:
            return busy_response(request)
        try:
            with request.app.state.plane.open_source() as src:
                if names:
                    result = metrics_service.compute(
                        src, names, period=period, start=start, end=end, today=today, tz=tz, by=by
                    )
                else:
                    result = metrics_service.scorecard(src, period=period, end=end, today=today, tz=tz, by=by)
        except ValidationError as exc:
            raise located(exc, "query") from exc
    periods = [{**asdict(p), "last_day": p.last_day, "label": p.label} for p in result.periods]
    return {"data": plain_json(result.records), "errors": result.errors, "periods": periods, "caption": result.caption}


@router.get(
    "/customers/{customer_id}/scores", response_model=ScoreOut, dependencies=reader, summary="A customer's scores"
)
def customer_scores(
    customer_id: Annotated[str, Path(min_length=1, max_length=255, pattern=KEY_PATTERN)],
    uow: UnitOfWorkFactory = Depends(get_uow),
) -> Any:
    """The customer's stored CLV score and churn-risk tier from the last refresh (404 when none)."""
    return plain_json(asdict(scores.customer_scores(uow, customer_id)))


@router.get("/scores", response_model=ScorePage, dependencies=reader, summary="List stored scores")
def list_scores(
    risk_tier: RiskTier | None = None,
    limit: PageLimit = 100,
    cursor: PageCursor = None,
    uow: UnitOfWorkFactory = Depends(get_uow),
) -> Any:
    """Stored scores in customer_id order, optionally of one risk tier (cursor pagination)."""
    return plain_json(scores.scores_page(uow, risk_tier=risk_tier, limit=limit, cursor=cursor))


@router.post(
    "/scores/refresh",
    response_model=RefreshOut,
    dependencies=[Depends(require_scope("admin"))],
    summary="Refresh every customer's CLV score",
    responses=BUSY,
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
    with analytics_slots(request.app).slot() as free:
        if not free:
            return busy_response(request)
        result = bootstrap.refresh_scores(request.app.state.plane.url, uow=uow, options=options)
    if result.webhooks_queued:
        request.app.state.plane.dispatcher.wake()
    return plain_json(result.as_dict())
