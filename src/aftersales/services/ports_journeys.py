"""Ports of the act plane's journeys (issue 15): what the services need from the store, as protocols.

A journey row holds the current definition (canonical JSON text), its version, status and salt;
every definition ever applied is also kept as a version row, so an enrollment that entered under an
older version stays readable. Version rows are written, never changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = [
    "JOURNEY_STATUSES",
    "JourneyRecord",
    "JourneyRepository",
    "JourneyVersionRecord",
    "Stopped",
]

JOURNEY_STATUSES = ("active", "paused", "archived")


@dataclass(frozen=True)
class JourneyRecord:
    """One journey (``journeys``): ``definition_json`` is the canonical document of ``version``.

    ``status`` is ``active`` | ``paused`` | ``archived``; ``salt`` makes its holdout and split
    assignments sticky (a new salt re-draws them); ``activated_at`` is when it first became active
    (None while it never was); ``scanned_until`` is the trigger scanner's cursor (written by the
    runtime only, through :meth:`JourneyRepository.set_scanned_until`)."""

    journey_id: str
    name: str
    version: int
    definition_json: str
    status: str
    salt: str
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None = None
    scanned_until: datetime | None = None


@dataclass(frozen=True)
class JourneyVersionRecord:
    """One applied definition (``journey_versions``)."""

    journey_id: str
    version: int
    definition_json: str
    created_at: datetime


@dataclass(frozen=True)
class Stopped:
    """What archiving a journey stopped: enrollments ended and queued messages cancelled."""

    enrollments: int
    messages: int


class JourneyRepository(Protocol):
    """Implemented by adapters/sql/repositories/journeys.py."""

    def add(self, journey: JourneyRecord) -> None:
        """Insert the journey and the version row of its ``version`` (``ConflictError`` when the name
        is taken, nothing written)."""
        ...

    def get(self, journey_id: str, *, for_update: bool = False) -> JourneyRecord | None:
        """The journey of that id (any status). ``for_update`` locks its row until the transaction ends
        (PostgreSQL; SQLite writers are serialised anyway), so two changes of one journey queue up."""
        ...

    def by_name(self, name: str, *, for_update: bool = False) -> JourneyRecord | None:
        """The journey of that name (any status: names stay taken after archiving)."""
        ...

    def update(self, journey: JourneyRecord) -> None:
        """Store the journey's columns (all but ``scanned_until``), and its version row when the
        version is new (an existing version row is never changed)."""
        ...

    def set_scanned_until(self, journey_id: str, at: datetime) -> None:
        """Move the trigger scanner's cursor (the runtime's; apply, pause and resume never touch it)."""
        ...

    def versions(self, journey_id: str) -> list[JourneyVersionRecord]:
        """Every applied definition of the journey, oldest first."""
        ...

    def version(self, journey_id: str, version: int) -> JourneyVersionRecord | None:
        """One applied definition."""
        ...

    def enrollment_counts(self, journey_id: str) -> dict[str, int]:
        """How many of the journey's enrollments are in each status (statuses without any are absent)."""
        ...

    def message_counts(self, journey_id: str) -> dict[str, int]:
        """How many of the journey's messages are in each status (statuses without any are absent)."""
        ...

    def stop(self, journey_id: str, at: datetime, reason: str) -> Stopped:
        """End the journey's active enrollments (``exited`` at ``at`` with ``reason``, lease and wake
        time cleared) and cancel its queued messages (``cancelled``, finished at ``at``, detail
        ``reason``), in this transaction: a customer removed from a journey receives nothing more."""
        ...

    # last, so that ``list`` in the annotations above is the builtin
    def list(
        self, *, statuses: Sequence[str] | None = None, after: str | None = None, limit: int | None = None
    ) -> list[JourneyRecord]:
        """Journeys in name order, strictly after the name ``after``, with one of ``statuses`` (all when None)."""
        ...
