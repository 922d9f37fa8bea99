"""Response models of ``/v1/journeys`` (routers/journeys.py). A request body is the journey document
itself (the same JSON as a YAML file; its schema is ``GET /v1/journeys/schema``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = ["ApplyOut", "ArchiveOut", "JourneyOut", "JourneyPage"]


class JourneyOut(BaseModel):
    journey_id: str = Field(description="jny_...")
    name: str
    version: int = Field(description="1 at creation, +1 at every applied change of the document.")
    status: Literal["active", "paused", "archived"]
    description: str
    category: str
    trigger: str = Field(description="The trigger in a few words, e.g. `order.delivered`.")
    definition: dict[str, Any] = Field(description="The canonical document of this version.")
    salt: str = Field(description="Makes holdout and split assignments sticky; a new one re-draws them.")
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None = Field(description="When it first became active (null while never).")
    scanned_until: datetime | None = Field(description="How far the trigger scanner has read the facts.")
    enrollments: dict[str, int] | None = Field(
        None, description="Enrollments by status (`GET /v1/journeys/{id}`; null in lists)."
    )
    messages: dict[str, int] | None = Field(
        None, description="Messages by status (`GET /v1/journeys/{id}`; null in lists)."
    )


class JourneyPage(BaseModel):
    items: list[JourneyOut]
    next_cursor: str | None


class ApplyOut(BaseModel):
    outcome: Literal["created", "changed", "unchanged"] = Field(
        description="`changed`: a new version was stored; `unchanged`: the document equals the stored one."
    )
    previous_version: int | None
    reassigned: bool = Field(description="A new salt was drawn (the holdout share or a split's weights changed).")
    notes: list[str]
    journey: JourneyOut


class ArchiveOut(BaseModel):
    journey: JourneyOut
    enrollments_ended: int = Field(description="Active enrollments ended (exit reason `journey archived`).")
    messages_cancelled: int = Field(description="Queued messages cancelled.")
