"""``POST /v1/events``: a batch of up to 1,000 touchpoint events, each stored once.

The hot route: the body is decoded and validated by msgspec (``events_codec.py``), not by FastAPI's
pydantic body parsing, and the work (decode, validate, write) runs in one worker thread so the event
loop keeps accepting requests. Its request schema is documented from the same structs.
"""

from __future__ import annotations

import msgspec
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from aftersales.core.errors import FieldError, ValidationError
from aftersales.entrypoints.api.deps import get_uow, require_scope
from aftersales.entrypoints.api.events_codec import decode_batch
from aftersales.entrypoints.api.schemas import IngestOut
from aftersales.services.operational import ingest
from aftersales.services.ports import UnitOfWorkFactory

router = APIRouter(prefix="/v1", tags=["events"])

_NOT_JSON = "the body must be JSON (Content-Type: application/json)"
_BODY = {"$ref": "#/components/schemas/EventBatch"}


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").partition(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _ingest(uow: UnitOfWorkFactory, body: bytes) -> bytes:
    events = decode_batch(body).events
    try:
        result = ingest.ingest_events(uow, events)
    except ValidationError as exc:  # the service names fields from the batch; the API from the body
        errors = [FieldError(("body", *e.loc), e.message) for e in exc.errors]
        raise ValidationError(str(exc), errors) from None
    out = {"received": result.received, "inserted": result.inserted, "duplicates": result.duplicates}
    return msgspec.json.encode(out)


@router.post(
    "/events",
    status_code=202,
    response_model=IngestOut,
    dependencies=[Depends(require_scope("ingest"))],
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": _BODY}}}},
)
async def post_events(request: Request, uow: UnitOfWorkFactory = Depends(get_uow)) -> Response:
    """Store a batch (all or nothing). Events whose ``event_id`` is already stored are skipped and counted
    as duplicates, so a retried batch writes nothing twice."""
    if not _is_json(request.headers.get("content-type")):
        raise ValidationError("1 invalid field(s)", [FieldError(("body",), _NOT_JSON)])
    body = await request.body()
    return Response(await run_in_threadpool(_ingest, uow, body), status_code=202, media_type="application/json")
