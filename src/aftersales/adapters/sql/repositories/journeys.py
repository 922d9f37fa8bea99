"""The store side of the act plane's journeys (issue 15; tables in adapters/sql/journey_tables.py).

``journeys`` holds each journey's current definition; ``journey_versions`` every definition applied,
written once per version (``INSERT ... ON CONFLICT DO NOTHING``, so storing a journey twice at one
version writes one row). Counts by status read ``journey_enrollments`` and ``journey_messages``
directly (one grouped query each, on the ``(journey_id, ...)`` indexes).

:meth:`SqlJourneyRepository.stop` ends a journey's active enrollments *before* cancelling its queued
messages: on PostgreSQL the enrollment update waits for a worker that holds one of those rows and
then re-checks it, and the message update that follows (a new statement, a new snapshot under READ
COMMITTED) sees whatever that worker committed, so nothing it queued escapes the cancellation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from aftersales.adapters.sql.journey_tables import journey_enrollments, journey_messages, journey_versions, journeys
from aftersales.core.errors import ConflictError
from aftersales.services.ports_journeys import JourneyRecord, JourneyVersionRecord, Stopped

__all__ = ["SqlJourneyRepository"]

J, V, E, M = journeys, journey_versions, journey_enrollments, journey_messages


class SqlJourneyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # -- journeys ---------------------------------------------------------------------------------

    def add(self, journey: JourneyRecord) -> None:
        try:
            with self._conn.begin_nested():  # a savepoint: the caller's transaction survives a conflict
                self._conn.execute(insert(J).values(**asdict(journey)))
                self._add_version(journey)
        except IntegrityError:
            raise ConflictError(f"a journey named {journey.name!r} exists already") from None

    def _one(self, q: Select[Any], for_update: bool) -> JourneyRecord | None:
        if for_update and self._conn.dialect.name == "postgresql":
            q = q.with_for_update()
        row = self._conn.execute(q).mappings().first()
        return JourneyRecord(**row) if row else None

    def get(self, journey_id: str, *, for_update: bool = False) -> JourneyRecord | None:
        return self._one(select(J).where(J.c.journey_id == journey_id), for_update)

    def by_name(self, name: str, *, for_update: bool = False) -> JourneyRecord | None:
        return self._one(select(J).where(J.c.name == name), for_update)

    def update(self, journey: JourneyRecord) -> None:
        values = {k: v for k, v in asdict(journey).items() if k not in ("journey_id", "scanned_until")}
        self._conn.execute(update(J).where(J.c.journey_id == journey.journey_id).values(**values))
        self._add_version(journey)

    def set_scanned_until(self, journey_id: str, at: datetime) -> None:
        self._conn.execute(update(J).where(J.c.journey_id == journey_id).values(scanned_until=at))

    # -- versions ---------------------------------------------------------------------------------

    def _add_version(self, journey: JourneyRecord) -> None:
        ins = (pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert)(V)
        row = JourneyVersionRecord(journey.journey_id, journey.version, journey.definition_json, journey.updated_at)
        self._conn.execute(ins.values(**asdict(row)).on_conflict_do_nothing())

    def versions(self, journey_id: str) -> list[JourneyVersionRecord]:
        q = select(V).where(V.c.journey_id == journey_id).order_by(V.c.version)
        return [JourneyVersionRecord(**r) for r in self._conn.execute(q).mappings()]

    def version(self, journey_id: str, version: int) -> JourneyVersionRecord | None:
        q = select(V).where(V.c.journey_id == journey_id, V.c.version == version)
        row = self._conn.execute(q).mappings().first()
        return JourneyVersionRecord(**row) if row else None

    # -- what runs under it -----------------------------------------------------------------------

    def enrollment_counts(self, journey_id: str) -> dict[str, int]:
        q = select(E.c.status, func.count()).where(E.c.journey_id == journey_id).group_by(E.c.status)
        return {str(s): int(n) for s, n in self._conn.execute(q)}

    def message_counts(self, journey_id: str) -> dict[str, int]:
        q = select(M.c.status, func.count()).where(M.c.journey_id == journey_id).group_by(M.c.status)
        return {str(s): int(n) for s, n in self._conn.execute(q)}

    def stop(self, journey_id: str, at: datetime, reason: str) -> Stopped:
        ended = self._conn.execute(
            update(E)
            .where(E.c.journey_id == journey_id, E.c.status == "active")
            .values(status="exited", exited_at=at, exit_reason=reason, wake_at=None, lease_token=None, lease_until=None)
        )
        cancelled = self._conn.execute(
            update(M)
            .where(M.c.journey_id == journey_id, M.c.status == "queued")
            .values(status="cancelled", finished_at=at, detail=reason, lease_token=None, lease_until=None)
        )
        return Stopped(enrollments=int(ended.rowcount), messages=int(cancelled.rowcount))

    # -- last, so that ``list`` in the annotations above is the builtin ---------------------------

    def list(
        self, *, statuses: Sequence[str] | None = None, after: str | None = None, limit: int | None = None
    ) -> list[JourneyRecord]:
        q = select(J).order_by(J.c.name)
        if statuses is not None:
            q = q.where(J.c.status.in_(list(statuses)))
        if after is not None:
            q = q.where(J.c.name > after)
        if limit is not None:
            q = q.limit(limit)
        return [JourneyRecord(**r) for r in self._conn.execute(q).mappings()]
