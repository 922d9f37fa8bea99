"""Saved segments: ``/v1/segments`` (CRUD), ``POST /v1/segments/preview``, members and sizes (docs/segments.md).

Reads (lists, one segment, members, sizes, preview) need the ``read`` scope; writes (create,
change, delete) ``admin``. A definition is given as text (``where``) or as JSON condition groups
(``definition``); a bad one is a 422 problem whose ``errors`` locate it in the body
(``["body", "where", line, column]`` or the JSON path ``["body", "definition", "all", 0, "field"]``)
and whose ``detail`` ends with the valid fields. A preview evaluates the definition on the store's
profiles now and saves nothing; it takes one of the analytics slots (429 when none is free, as
``/v1/metrics``). Members and sizes are those the last ``aftersales refresh`` stored; members come
in pages (``cursor``), in customer id order.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from aftersales.core.errors import ValidationError
from aftersales.entrypoints.api.deps import get_uow, require_scope
from aftersales.entrypoints.api.problems import located
from aftersales.entrypoints.api.routers.analytics import analytics_slots, busy_response
from aftersales.entrypoints.api.schemas import KEY_PATTERN, PageCursor, PageLimit
from aftersales.services.operational import segments
from aftersales.services.ports import UnitOfWorkFactory

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["segments"])
reader = [Depends(require_scope("read"))]
admin = [Depends(require_scope("admin"))]
SegmentRef = Annotated[str, Path(min_length=1, max_length=255, pattern=KEY_PATTERN, description="seg_... or the name")]
Description = Annotated[str | None, Field(max_length=2000, pattern=r"^[^\x00]*$")]
Where = Annotated[
    str | None,
    Field(max_length=20_000, description="The text form, e.g. `orders >= 2 and email_consent` (docs/segments.md)."),
]
Definition = Annotated[
    dict[str, Any] | None, Field(description='The JSON form, e.g. `{"all": [{"field": "email_consent"}]}`.')
]


class SegmentIn(BaseModel):
    """A new segment: a name and exactly one of `where` (text) and `definition` (JSON)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=segments.MAX_NAME)
    description: Description = None
    where: Where = None
    definition: Definition = None


class SegmentPatch(BaseModel):
    """What to change: any of the name, the description (null clears it) and the definition."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=segments.MAX_NAME)
    description: Description = None
    where: Where = None
    definition: Definition = None


class SegmentOut(BaseModel):
    segment_id: str
    name: str
    description: str | None
    where: str
    definition: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    size: int | None = Field(description="Members at the last refresh (null before the first).")
    refreshed_at: datetime | None


class SegmentPage(BaseModel):
    items: list[SegmentOut]
    next_cursor: str | None


class PreviewIn(BaseModel):
    """A definition to evaluate now (or at `now`), without saving it."""

    model_config = ConfigDict(extra="forbid")
    where: Where = None
    definition: Definition = None
    limit: int = Field(10, ge=0, le=1000, description="How many members to return (the first by customer id).")
    now: AwareDatetime | None = Field(None, description="Evaluation time (default: the server's current time).")


class PreviewOut(BaseModel):
    where: str
    definition: dict[str, Any]
    now: datetime
    count: int
    total: int
    columns: list[str]
    sample: list[dict[str, Any]]


class MemberOut(BaseModel):
    customer_id: str
    entered_at: datetime


class MemberPage(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None


class SizeOut(BaseModel):
    refreshed_at: datetime
    size: int
    entered: int
    exited: int


class SizePage(BaseModel):
    items: list[SizeOut]
    next_cursor: str | None


def _out(segment: segments.Segment) -> dict[str, Any]:
    return {k: v for k, v in asdict(segment).items() if k != "deleted_at"}


@router.post("/segments", status_code=201, response_model=SegmentOut, dependencies=admin, summary="Save a segment")
def create(body: SegmentIn, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    """Save a segment from its text or JSON form (409 when the name is taken). Its members are stored
    by the next refresh."""
    try:
        made = segments.create(
            uow, body.name, where=body.where, definition=body.definition, description=body.description
        )
    except ValidationError as exc:
        raise located(exc, "body") from exc
    return _out(made)


@router.get("/segments", response_model=SegmentPage, dependencies=reader, summary="List segments")
def list_segments(limit: PageLimit = 100, cursor: PageCursor = None, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    """Live segments in id order, each with its size at the last refresh (cursor pagination)."""
    page = segments.list_segments(uow, limit=limit, cursor=cursor)
    return {"items": [_out(s) for s in page["items"]], "next_cursor": page["next_cursor"]}


@router.post("/segments/preview", response_model=PreviewOut, dependencies=reader, summary="Preview a definition")
def preview(body: PreviewIn, request: Request) -> Any:
    """Count the members of a definition on the store's profiles and return the first `limit` of them
    (with the fields the definition reads). Nothing is saved."""
    with analytics_slots(request.app).slot() as free:
        if not free:
            return busy_response(request)
        try:
            with request.app.state.plane.open_source() as src:
                result = segments.preview(
                    src, where=body.where, definition=body.definition, now=body.now, limit=body.limit
                )
        except ValidationError as exc:
            raise located(exc, "body") from exc
    return {**asdict(result), "columns": list(result.columns)}


@router.get("/segments/{segment_id}", response_model=SegmentOut, dependencies=reader, summary="One segment")
def one(segment_id: SegmentRef, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    return _out(segments.get(uow, segment_id))


@router.patch("/segments/{segment_id}", response_model=SegmentOut, dependencies=admin, summary="Change a segment")
def change(segment_id: SegmentRef, body: SegmentPatch, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    """Change what the body gives; a new definition takes effect (and is announced) at the next refresh."""
    given = body.model_fields_set
    extra: dict[str, Any] = {"description": body.description} if "description" in given else {}
    try:
        changed = segments.update(
            uow, segment_id, name=body.name, where=body.where, definition=body.definition, **extra
        )
    except ValidationError as exc:
        raise located(exc, "body") from exc
    return _out(changed)


@router.delete("/segments/{segment_id}", response_model=SegmentOut, dependencies=admin, summary="Delete a segment")
def delete(segment_id: SegmentRef, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    """Stop listing and refreshing the segment (its membership history is kept)."""
    return _out(segments.delete(uow, segment_id))


@router.get("/segments/{segment_id}/members", response_model=MemberPage, dependencies=reader, summary="Members")
def members(
    segment_id: SegmentRef, limit: PageLimit = 100, cursor: PageCursor = None, uow: UnitOfWorkFactory = Depends(get_uow)
) -> Any:
    """The current members as of the last refresh, in customer id order, with when each entered."""
    return segments.members_page(uow, segment_id, limit=limit, cursor=cursor)


@router.get("/segments/{segment_id}/sizes", response_model=SizePage, dependencies=reader, summary="Sizes over time")
def sizes(
    segment_id: SegmentRef, limit: PageLimit = 100, cursor: PageCursor = None, uow: UnitOfWorkFactory = Depends(get_uow)
) -> Any:
    """The segment's size after each refresh, oldest first, with how many entered and exited."""
    return segments.sizes_page(uow, segment_id, limit=limit, cursor=cursor)
