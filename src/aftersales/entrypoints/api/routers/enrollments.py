"""A journey's enrollments: ``GET /v1/journeys/{id or name}/enrollments`` (read scope; cursor pages in
enrollment id order, optionally one status) and ``DELETE .../enrollments/{enrollment_id}`` (admin:
take the customer out of the journey; its queued messages are cancelled). docs/journeys.md, "The
engine: workers, leases, time"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from aftersales.entrypoints.api.deps import get_uow, require_scope
from aftersales.entrypoints.api.schemas import KEY_PATTERN, PageCursor, PageLimit
from aftersales.services.operational.journeys.enrollments import enrollment_view, enrollments_page, remove
from aftersales.services.ports import UnitOfWorkFactory

__all__ = ["EnrollmentOut", "EnrollmentPage", "router"]

router = APIRouter(prefix="/v1", tags=["journeys"])
JourneyRef = Annotated[str, Path(min_length=1, max_length=255, pattern=KEY_PATTERN, description="jny_... or the name")]
EnrollmentId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_]+$", description="enr_...")]
Status = Literal["active", "completed", "exited", "held_out"]


class EnrollmentOut(BaseModel):
    enrollment_id: str = Field(description="enr_...: derived from (journey, trigger key)")
    journey_id: str
    customer_id: str
    trigger_key: str = Field(description="The fact that enrolled the customer (an order id, an event id, a due date).")
    version: int = Field(description="The journey's version when the customer entered.")
    arm: Literal["journey", "holdout"]
    status: Status
    entered_at: datetime
    step_id: str | None = Field(description="The step the enrollment stands at.")
    wake_at: datetime | None = Field(description="When it is due next (active enrollments).")
    step_started_at: datetime | None
    trigger: dict[str, Any] = Field(description="The trigger fact's properties.")
    variants: dict[str, str] = Field(description="Split step id -> the variant drawn.")
    exited_at: datetime | None
    exit_reason: str | None = Field(description="goal, event <name>, unsubscribed, left segment, removed, ...")


class EnrollmentPage(BaseModel):
    items: list[EnrollmentOut]
    next_cursor: str | None


@router.get(
    "/journeys/{ref}/enrollments",
    response_model=EnrollmentPage,
    dependencies=[Depends(require_scope("read"))],
    summary="A journey's enrollments",
)
def enrollments(
    ref: JourneyRef,
    status: Status | None = None,
    limit: PageLimit = 100,
    cursor: PageCursor = None,
    uow: UnitOfWorkFactory = Depends(get_uow),
) -> Any:
    """Who entered the journey, in which arm, where each stands and why it ended (cursor pagination)."""
    return enrollments_page(uow, ref, status=status, limit=limit, cursor=cursor)


@router.delete(
    "/journeys/{ref}/enrollments/{enrollment_id}",
    response_model=EnrollmentOut,
    dependencies=[Depends(require_scope("admin"))],
    summary="Take a customer out of a journey",
)
def remove_enrollment(ref: JourneyRef, enrollment_id: EnrollmentId, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    """End an active enrollment (exit reason `removed`) and cancel its queued messages: the customer gets
    nothing more from the journey (409 when it is not active)."""
    return enrollment_view(remove(uow, ref, enrollment_id, datetime.now(UTC)))
