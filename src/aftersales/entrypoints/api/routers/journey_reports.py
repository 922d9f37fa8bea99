"""``GET /v1/journeys/{id or name}/report``: journey vs holdout and each split, through the experiment
engine (docs/journeys.md, "Proving a journey"); the records of ``aftersales journeys report --format json``.

It reads the store's orders in the analytical engine, so it shares the analytics requests' slots
(a 429 with Retry-After when they are all taken).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from aftersales.bootstrap.journey_reports import journey_report
from aftersales.entrypoints.api.deps import require_scope
from aftersales.entrypoints.api.routers.analytics import BUSY, analytics_slots, busy_response, plain_json
from aftersales.entrypoints.api.schemas import KEY_PATTERN

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["journeys"])
JourneyRef = Annotated[str, Path(min_length=1, max_length=255, pattern=KEY_PATTERN, description="jny_... or the name")]


@router.get(
    "/journeys/{ref}/report",
    dependencies=[Depends(require_scope("read"))],
    summary="A journey's holdout and split report",
    responses=BUSY,
)
def report(
    request: Request,
    ref: JourneyRef,
    window: Annotated[int | None, Query(ge=1, le=3650, description="Days after entry (default: the goal's)")] = None,
    as_of: Annotated[date | None, Query(description="Report as of this day (default: now)")] = None,
    include_immature: Annotated[bool, Query(description="Count customers whose window has not ended")] = False,
    correction: Annotated[Literal["holm", "bh", "none"], Query(description="Multiple testing")] = "holm",
) -> Any:
    """Per arm (journey, holdout) and per split variant: enrolled, conversions to the goal, revenue per
    enrolled customer, repeat purchase and churn over the window; per comparison and metric: lift,
    interval, p-value (corrected), SRM check."""
    at = datetime.combine(as_of, time(0), UTC) if as_of is not None else None
    with analytics_slots(request.app).slot() as free:
        if not free:
            return busy_response(request)
        result = journey_report(
            ref,
            db=request.app.state.plane.url,
            as_of=at,
            window_days=window,
            include_immature=include_immature,
            correction=correction,
        )
    out = {k: v for k, v in asdict(result).items() if k not in ("holdout", "splits", "arms")}
    out["arms"] = [asdict(a) for a in result.arms]
    out["splits"] = {step: [asdict(a) for a in arms] for step, (arms, _) in result.splits.items()}
    out["comparisons"] = result.records()
    return plain_json(out)
