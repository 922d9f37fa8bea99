"""``POST /v1/events``: a batch of up to 1,000 touchpoint events, each stored once."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from aftersales.entrypoints.api.deps import get_uow, require_scope
from aftersales.entrypoints.api.schemas import EventBatch, IngestOut
from aftersales.services import ingest
from aftersales.services.ports import UnitOfWorkFactory

router = APIRouter(prefix="/v1", tags=["events"])


@router.post("/events", status_code=202, response_model=IngestOut, dependencies=[Depends(require_scope("ingest"))])
def post_events(batch: EventBatch, uow: UnitOfWorkFactory = Depends(get_uow)) -> IngestOut:
    """Store a batch (all or nothing). Events whose ``event_id`` is already stored are skipped and counted
    as duplicates, so a retried batch writes nothing twice."""
    result = ingest.ingest_events(uow, [e.model_dump() for e in batch.events])
    return IngestOut(received=result.received, inserted=result.inserted, duplicates=result.duplicates)
