"""Journey definitions: ``/v1/journeys`` (list, create), ``/v1/journeys/{id or name}`` (read, apply with
``PUT``, archive with ``DELETE``), ``pause`` and ``resume``, and the published JSON Schema of the
documents at ``/v1/journeys/schema`` (docs/journeys.md).

Reads need the ``read`` scope, writes ``admin``; writes honour ``Idempotency-Key`` like every other
write. A body is the journey document itself. An invalid one is a 422 problem whose ``errors``
locate each problem by its JSON path in the body (``["body", "steps", 2, "duration"]``) and write
nothing. ``PUT`` is apply: it creates the journey named in the URL (201) or stores a new version
when the document changed (200; ``outcome`` says ``changed`` or ``unchanged``); a change of the
holdout share or of a split's weights is a 409 unless ``reassign=true`` (a new salt).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query
from starlette.responses import Response

from aftersales.core.errors import ValidationError
from aftersales.core.journeys import journey_schema
from aftersales.entrypoints.api.deps import get_uow, require_scope
from aftersales.entrypoints.api.journey_schemas import ApplyOut, ArchiveOut, JourneyOut, JourneyPage
from aftersales.entrypoints.api.problems import located
from aftersales.entrypoints.api.schemas import KEY_PATTERN, PageCursor, PageLimit
from aftersales.services.operational.journeys import definitions
from aftersales.services.ports import UnitOfWorkFactory

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["journeys"])
reader = [Depends(require_scope("read"))]
admin = [Depends(require_scope("admin"))]
JourneyRef = Annotated[str, Path(min_length=1, max_length=255, pattern=KEY_PATTERN, description="jny_... or the name")]
Document = Annotated[
    dict[str, Any],
    Body(description="A journey document (the JSON form of a journey YAML file; schema: GET /v1/journeys/schema)."),
]
Reassign = Annotated[
    bool, Query(description="Allow a change of the holdout share or of a split's weights by drawing a new salt.")
]
Paused = Annotated[bool, Query(description="Create the journey paused (no effect on an existing journey).")]
Statuses = Annotated[list[str] | None, Query(description="Only journeys in these statuses (active, paused, archived).")]


def _journey(journey: definitions.StoredJourney, *, counted: bool = True) -> dict[str, Any]:
    out = asdict(journey)
    if not counted:
        out["enrollments"] = out["messages"] = None
    return out


def _applied(done: definitions.Applied, response: Response) -> dict[str, Any]:
    response.status_code = 201 if done.outcome == "created" else 200
    return {**asdict(done), "notes": list(done.notes), "journey": _journey(done.journey)}


@router.get("/journeys/schema", dependencies=reader, summary="The JSON Schema of journey documents")
def schema() -> dict[str, Any]:
    """The published JSON Schema (draft 2020-12) every journey document is validated against (a
    journey named `schema` is read by its id)."""
    return journey_schema()


@router.get("/journeys", response_model=JourneyPage, dependencies=reader, summary="List journeys")
def list_journeys(
    status: Statuses = None,
    limit: PageLimit = 100,
    cursor: PageCursor = None,
    uow: UnitOfWorkFactory = Depends(get_uow),
) -> Any:
    """Journeys in name order (cursor pagination), every status unless `status` is given."""
    page = definitions.list_journeys(uow, statuses=status, limit=limit, cursor=cursor)
    return {"items": [_journey(j, counted=False) for j in page["items"]], "next_cursor": page["next_cursor"]}


@router.post("/journeys", status_code=201, response_model=ApplyOut, dependencies=admin, summary="Create a journey")
def create(
    document: Document, response: Response, paused: Paused = False, uow: UnitOfWorkFactory = Depends(get_uow)
) -> Any:
    """Create a journey from its document (409 when the name is taken: `PUT /v1/journeys/{name}` applies
    a change)."""
    try:
        done = definitions.create(uow, document, paused=paused)
    except ValidationError as exc:
        raise located(exc, "body") from exc
    return _applied(done, response)


@router.get("/journeys/{ref}", response_model=JourneyOut, dependencies=reader, summary="One journey")
def one(ref: JourneyRef, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    """The journey with its definition, status and its enrollments and messages counted by status."""
    return _journey(definitions.get(uow, ref))


@router.put(
    "/journeys/{ref}",
    response_model=ApplyOut,
    responses={201: {"model": ApplyOut, "description": "Created (the journey did not exist)"}},
    dependencies=admin,
    summary="Apply a journey",
)
def put(
    ref: JourneyRef,
    document: Document,
    response: Response,
    reassign: Reassign = False,
    paused: Paused = False,
    uow: UnitOfWorkFactory = Depends(get_uow),
) -> Any:
    """Create the journey (201) or store its changed document as a new version (200); an unchanged
    document writes nothing. The document's `name` must be the journey's."""
    try:
        done = definitions.apply_at(uow, ref, document, reassign=reassign, paused=paused)
    except ValidationError as exc:
        raise located(exc, "body") from exc
    return _applied(done, response)


@router.delete("/journeys/{ref}", response_model=ArchiveOut, dependencies=admin, summary="Archive a journey")
def archive(ref: JourneyRef, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    """Archive for good: active enrollments end ("journey archived") and queued messages are cancelled;
    the journey, its versions and its history stay readable."""
    done = definitions.archive(uow, ref)
    return {**asdict(done), "journey": _journey(done.journey)}


@router.post("/journeys/{ref}/pause", response_model=JourneyOut, dependencies=admin, summary="Pause a journey")
def pause(ref: JourneyRef, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    """Nobody new enters and no step advances; queued messages stay queued."""
    return _journey(definitions.pause(uow, ref))


@router.post("/journeys/{ref}/resume", response_model=JourneyOut, dependencies=admin, summary="Resume a journey")
def resume(ref: JourneyRef, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    """Enroll and advance again (the first resume of a journey created paused activates it)."""
    return _journey(definitions.resume(uow, ref))
