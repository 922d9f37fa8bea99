"""The loyalty ledger: ``/v1/loyalty/program``, ``/v1/loyalty/members/{id}`` (balance, lots, tier,
recent history), its ``/history`` pages, ``/v1/loyalty/redemptions``, ``/v1/loyalty/awards`` and
``/v1/loyalty/liability`` (docs/loyalty.md).

Reads need the ``read`` scope; a redemption ``ingest`` (a shop spends its customers' points); the
program and awards ``admin``. A redemption is idempotent by its key: the body's ``key``, else the
``Idempotency-Key`` header (one of them is required); a retry with the same key returns the first
redemption (200, ``replayed: true``) and writes nothing; the same key for another redemption is a
409. Not enough points is a 409 ("Not enough points") and writes nothing. An invalid program is a
422 whose ``errors`` locate each problem by its path in the body (``["body", "tiers", "levels", 1,
"min_points"]``).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from aftersales.core.errors import FieldError, ValidationError
from aftersales.entrypoints.api.deps import get_uow, require_scope
from aftersales.entrypoints.api.problems import located
from aftersales.entrypoints.api.schemas import KEY_PATTERN, PageCursor, PageLimit
from aftersales.services.operational import loyalty
from aftersales.services.ports import UnitOfWorkFactory

__all__ = ["router"]

router = APIRouter(prefix="/v1/loyalty", tags=["loyalty"])
reader = [Depends(require_scope("read"))]
ingest = [Depends(require_scope("ingest"))]
admin = [Depends(require_scope("admin"))]
MemberRef = Annotated[str, Path(min_length=1, max_length=255, pattern=KEY_PATTERN, description="The customer id.")]
Key = Annotated[str | None, Field(None, min_length=1, max_length=255, pattern=KEY_PATTERN)]
Document = Annotated[dict[str, Any], Body(description="A loyalty program document (docs/loyalty.md).")]
RECENT = 20  # history rows in a member's view


class ProgramOut(BaseModel):
    version: int
    name: str
    document: dict[str, Any]
    digest: str
    applied_at: datetime


class AppliedOut(BaseModel):
    status: str = Field(description="created, updated (a new version) or unchanged (nothing written)")
    program: ProgramOut


class LotOut(BaseModel):
    lot_id: str
    source: str | None
    earned_at: datetime
    expires_at: datetime | None
    points: int
    remaining: int
    locked: int
    available: int


class TierOut(BaseModel):
    name: str
    earn_multiplier: str
    qualifying_points: int
    window_points: int
    next_tier: str | None
    points_to_next: int | None


class EntryOut(BaseModel):
    entry_id: int
    kind: str
    points: int
    locked: int
    lot_id: str
    occurred_at: datetime
    expires_at: datetime | None
    key: str
    line: int
    source: str | None
    detail: dict[str, Any] | None
    program_version: int | None
    recorded_at: datetime


class HistoryPage(BaseModel):
    items: list[EntryOut]
    next_cursor: str | None


class MemberOut(BaseModel):
    member_id: str
    as_of: datetime
    joined_at: datetime
    balance: int
    available: int
    locked: int
    expiring_soon: int
    tier: TierOut
    lots: list[LotOut] = Field(description="Open lots, in the order redemptions draw from them.")
    history: list[EntryOut] = Field(description=f"The newest {RECENT} ledger rows (`/history` for more).")
    history_next_cursor: str | None
    program_version: int


class RedemptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: str = Field(min_length=1, max_length=255, pattern=KEY_PATTERN)
    reward_id: str = Field(min_length=1, max_length=64)
    quantity: int = Field(1, ge=1, le=1000)
    key: Key = None


class LotTaken(BaseModel):
    lot_id: str
    points: int


class RedemptionOut(BaseModel):
    redemption_id: str
    key: str
    member_id: str
    reward_id: str
    reward_name: str
    quantity: int
    points: int
    redeemed_at: datetime
    lots: list[LotTaken]
    available: int
    replayed: bool


class AwardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: str = Field(min_length=1, max_length=255, pattern=KEY_PATTERN)
    points: int = Field(description="Points to add (a new lot), or to deduct when negative (oldest expiry first).")
    key: str = Field(min_length=1, max_length=255, pattern=KEY_PATTERN)
    reason: str | None = Field(None, max_length=500)
    expires: bool = Field(True, description="Whether the points expire like earned ones.")


class AwardOut(BaseModel):
    member_id: str
    key: str
    points: int
    lots: list[LotTaken]
    available: int
    replayed: bool


class LiabilityOut(BaseModel):
    as_of: datetime
    currency: str
    cost_per_point: Decimal
    members: int
    points_held: int
    points_locked: int
    points_available: int
    pending_expiry: int
    liability: Decimal
    liability_available: Decimal
    points_issued: int
    points_earned: int
    points_awarded: int
    points_redeemed: int
    points_expired: int
    points_reversed: int
    redemption_rate: float | None
    breakage: float | None
    tiers: dict[str, int]
    tier_movements: list[dict[str, Any]]
    redemptions: list[dict[str, Any]]
    last_run_at: datetime | None


def _program(view: loyalty.ProgramView) -> dict[str, Any]:
    return asdict(view)


@router.get("/program", response_model=ProgramOut, dependencies=reader, summary="The loyalty program")
def program(uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    """The program in force: its canonical document and version (404 before the first apply)."""
    return _program(loyalty.current_program(uow))


@router.put(
    "/program",
    response_model=AppliedOut,
    responses={201: {"model": AppliedOut, "description": "Created (the first program)"}},
    dependencies=admin,
    summary="Apply the loyalty program",
)
def apply(document: Document, response: Response, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    """Store the document as the next version (201 for the first, 200 after); an unchanged one writes nothing."""
    try:
        done = loyalty.apply_program(uow, document)
    except ValidationError as exc:
        raise located(exc, "body") from exc
    response.status_code = 201 if done.status == "created" else 200
    return {"status": done.status, "program": _program(done.program)}


@router.get("/members/{member_id}", response_model=MemberOut, dependencies=reader, summary="A member's points")
def member(member_id: MemberRef, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    """Balance, available and locked points, points expiring soon, tier, open lots and recent history,
    all derived from the ledger now."""
    view = loyalty.member(uow, member_id)
    page = loyalty.history_page(uow, member_id, limit=RECENT)
    return {**asdict(view), "history": page["items"], "history_next_cursor": page["next_cursor"]}


@router.get("/members/{member_id}/history", response_model=HistoryPage, dependencies=reader, summary="History")
def history(
    member_id: MemberRef, limit: PageLimit = 100, cursor: PageCursor = None, uow: UnitOfWorkFactory = Depends(get_uow)
) -> Any:
    """The member's ledger rows, newest first (cursor pagination)."""
    return loyalty.history_page(uow, member_id, limit=limit, cursor=cursor)


@router.post("/redemptions", status_code=201, response_model=RedemptionOut, dependencies=ingest, summary="Redeem")
def redeem(
    body: RedemptionIn,
    response: Response,
    idempotency_key: Annotated[str | None, Header(include_in_schema=False)] = None,
    uow: UnitOfWorkFactory = Depends(get_uow),
) -> Any:
    """Spend a member's points on a reward, oldest expiry first (module docstring for keys and errors)."""
    key = body.key or idempotency_key
    if not key:
        message = "give a key in the body or an Idempotency-Key header"
        raise ValidationError(message, [FieldError(("body", "key"), message)])
    done = loyalty.redeem(uow, body.member_id, body.reward_id, key=key, quantity=body.quantity)
    if done.replayed:
        response.status_code = 200
    return loyalty.redemption_detail(done)


@router.post("/awards", status_code=201, response_model=AwardOut, dependencies=admin, summary="Award or deduct")
def award(body: AwardIn, response: Response, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    """A manual adjustment, idempotent by `key` per member (a retry returns what was written, 200)."""
    done = loyalty.adjust(uow, body.member_id, body.points, key=body.key, reason=body.reason, expires=body.expires)
    if done.replayed:
        response.status_code = 200
    return {**asdict(done), "lots": [{"lot_id": lot, "points": n} for lot, n in done.lots]}


@router.get("/liability", response_model=LiabilityOut, dependencies=reader, summary="Liability and rates")
def liability(uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    """Points liability (held x cost per point), redemption rate, breakage, members per tier."""
    return asdict(loyalty.report(uow))
