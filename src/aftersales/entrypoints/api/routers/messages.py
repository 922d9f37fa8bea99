"""Messages and suppressions: ``/v1/messages`` (list), ``/v1/messages/progress``, ``/v1/suppressions``
(docs/email.md). Reads need the ``read`` scope, suppression writes ``admin``. Nothing here returns
an e-mail address: messages and suppressions name customers by id.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

from aftersales import bootstrap
from aftersales.entrypoints.api.deps import get_uow, require_scope
from aftersales.entrypoints.api.schemas import KEY_PATTERN, PageCursor, PageLimit
from aftersales.services.operational.messaging import progress, suppressions
from aftersales.services.ports import UnitOfWorkFactory

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["messages"])
reader = [Depends(require_scope("read"))]
admin = [Depends(require_scope("admin"))]
Ref = Annotated[str | None, Query(min_length=1, max_length=255, pattern=KEY_PATTERN)]
Status = Literal["queued", "sending", "sent", "failed", "suppressed", "skipped", "cancelled", "unknown"]
Topic = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")]


class MessageOut(BaseModel):
    message_id: str
    enrollment_id: str
    journey_id: str
    step_id: str
    customer_id: str
    channel: str
    category: str
    topic: str
    variant: str | None
    params: dict[str, Any]
    status: str
    not_before: datetime
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    rfc_message_id: str | None
    detail: str | None


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None


class ProgressOut(BaseModel):
    journey_id: str | None
    as_of: datetime
    total: int
    started: int
    sent: int
    deferred: int
    failed: int
    unknown: int
    suppressed: int
    skipped: int
    cancelled: int
    sending: int
    remaining: int
    rate_per_s: float | None
    estimated_finish: datetime | None


class SuppressionIn(BaseModel):
    """A suppression to add: ``topic`` ``*`` is every marketing topic; ``hard_bounce`` and ``complaint``
    block every e-mail (their topic is set for them)."""

    model_config = ConfigDict(extra="forbid")
    customer_id: str = Field(min_length=1, max_length=255, pattern=KEY_PATTERN)
    channel: Literal["email"] = "email"
    topic: Topic = "*"
    reason: Literal["manual", "unsubscribed", "hard_bounce", "complaint"] = "manual"


class SuppressionOut(BaseModel):
    customer_id: str
    channel: str
    topic: str
    reason: str
    created_at: datetime
    address_hash: str | None
    source: str | None


class SuppressionPage(BaseModel):
    items: list[SuppressionOut]
    next_cursor: str | None


@router.get("/messages", response_model=MessagePage, dependencies=reader)
def messages(
    journey: Ref = None,
    customer: Ref = None,
    status: Status | None = None,
    limit: PageLimit = 100,
    cursor: PageCursor = None,
    uow: UnitOfWorkFactory = Depends(get_uow),
) -> Any:
    """Outbox messages in id order; ``journey`` is a journey's id or name."""
    return progress.messages_page(
        uow, journey_id=journey, customer_id=customer, status=status, limit=limit, cursor=cursor
    )


@router.get("/messages/progress", response_model=ProgressOut, dependencies=reader)
def messages_progress(journey: Ref = None, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    """Where sending stands (one journey, or all): counts, the measured rate, the estimated finish
    (at the measured rate, else the configured ``AFTERSALES_SEND_RATE_PER_S``)."""
    rate = bootstrap.settings().send_rate_per_s
    with uow() as u:
        found = progress.delivery_progress(
            u, progress.journey_ref(u, journey), now=datetime.now(UTC), send_rate_per_s=rate
        )
    return asdict(found)


@router.get("/suppressions", response_model=SuppressionPage, dependencies=reader)
def suppression_list(
    customer: Ref = None,
    limit: PageLimit = 100,
    cursor: PageCursor = None,
    uow: UnitOfWorkFactory = Depends(get_uow),
) -> Any:
    return suppressions.suppressions_page(uow, customer_id=customer, limit=limit, cursor=cursor)


@router.post(
    "/suppressions",
    status_code=201,
    response_model=SuppressionOut,
    dependencies=admin,
    responses={200: {"model": SuppressionOut, "description": "The suppression existed already (unchanged)"}},
)
def suppression_add(body: SuppressionIn, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    """Suppress a customer (201; 200 with the entry already there when it exists)."""
    record, created = suppressions.add_suppression(
        uow, body.customer_id, now=datetime.now(UTC), channel=body.channel, topic=body.topic, reason=body.reason
    )
    out = SuppressionOut(**asdict(record))
    return out if created else JSONResponse(out.model_dump(mode="json"), status_code=200)


@router.delete("/suppressions", response_model=SuppressionOut, dependencies=admin)
def suppression_remove(
    customer: Annotated[str, Query(min_length=1, max_length=255, pattern=KEY_PATTERN)],
    topic: Annotated[str, Query(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")] = "*",
    channel: Literal["email"] = "email",
    uow: UnitOfWorkFactory = Depends(get_uow),
) -> Any:
    """Lift one suppression (404 when there is none); ``topic`` is ``*``, a topic, ``!hard_bounce`` or
    ``!complaint``."""
    return asdict(suppressions.remove_suppression(uow, customer, channel=channel, topic=topic))
