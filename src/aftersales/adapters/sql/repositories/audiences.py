"""The audience repository (``services.operational.audiences.AudienceRepository``) on SQLAlchemy:
segment members with identifiers and consent, sync destinations, sync state and the batch outbox.

:func:`audience_store` gives the service its unit of work: one transaction per ``with`` block,
committed when the block ends without an error.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import Connection, Engine, delete, or_, select, update

from aftersales.adapters.sql.audience_tables import audience_destinations, audience_sync_outbox, audience_sync_state
from aftersales.adapters.sql.segment_tables import segment_memberships, segments
from aftersales.adapters.sql.tables import TABLES
from aftersales.core.audiences import MemberBatch
from aftersales.services.operational.audiences import DestinationRecord, OutboxBatch, SegmentRef

__all__ = ["SqlAudienceRepository", "audience_store"]

D, S, OUT = audience_destinations, audience_sync_state, audience_sync_outbox
M, SEG, CUST = segment_memberships, segments, TABLES["customers"]
CHUNK = 1_000  # ids per IN (...) list; SQLite allows 32,766 bind parameters


class SqlAudienceRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # -- segments and members -----------------------------------------------------------------

    def find_segment(self, ref: str) -> SegmentRef | None:
        q = (
            select(SEG.c.segment_id, SEG.c.name)
            .where(SEG.c.deleted_at.is_(None), or_(SEG.c.segment_id == ref, SEG.c.name == ref))
            .order_by((SEG.c.segment_id == ref).desc())  # an id wins over another segment's name
        )
        row = self._conn.execute(q).first()
        return SegmentRef(row.segment_id, row.name) if row else None

    def member_batches(self, segment_id: str, size: int) -> Iterator[MemberBatch]:
        """Current members (``exited_at IS NULL``) joined to their customer row, in customer order
        (the membership key (segment_id, customer_id, entered_at) serves that order), streamed.

        Rows are fetched from the driver's cursor as plain tuples: building SQLAlchemy rows cost half
        of a million-row export. Consent comes back as the driver gives it (0/1 on SQLite, booleans on
        PostgreSQL); only its truth counts."""
        q = (
            select(
                CUST.c.customer_id,
                CUST.c.email,
                CUST.c.phone,
                CUST.c.name,
                CUST.c.country,
                CUST.c.email_consent,
                CUST.c.sms_consent,
            )
            .select_from(M.join(CUST, CUST.c.customer_id == M.c.customer_id))
            .where(M.c.segment_id == segment_id, M.c.exited_at.is_(None))
            .order_by(M.c.customer_id)
        )
        compiled = q.compile(dialect=self._conn.dialect)
        positional = compiled.positiontup or []
        params = tuple(compiled.params[k] for k in positional) if compiled.positional else compiled.params
        dbapi = self._conn.connection.dbapi_connection
        assert dbapi is not None
        # a named cursor is server-side on PostgreSQL (rows stream); SQLite's cursor steps as it fetches
        named = self._conn.dialect.name == "postgresql"
        cursor = dbapi.cursor(name=f"audience_members_{secrets.token_hex(4)}") if named else dbapi.cursor()
        try:
            cursor.execute(str(compiled), params)
            while rows := cursor.fetchmany(size):
                yield MemberBatch(rows)
        finally:
            cursor.close()

    # -- destinations -------------------------------------------------------------------------

    def add_destination(self, destination: DestinationRecord) -> None:
        self._conn.execute(D.insert().values(**asdict(destination)))

    def find_destination(self, ref: str) -> DestinationRecord | None:
        q = (
            select(D)
            .where(or_(D.c.destination_id == ref, D.c.name == ref))
            .order_by((D.c.destination_id == ref).desc())
        )
        row = self._conn.execute(q).mappings().first()
        return DestinationRecord(**row) if row else None

    def list_destinations(self) -> list[DestinationRecord]:
        return [DestinationRecord(**r) for r in self._conn.execute(select(D).order_by(D.c.name)).mappings()]

    def delete_destination(self, destination_id: str) -> None:
        self._conn.execute(delete(OUT).where(OUT.c.destination_id == destination_id))
        self._conn.execute(delete(S).where(S.c.destination_id == destination_id))
        self._conn.execute(delete(D).where(D.c.destination_id == destination_id))

    # -- sync state and outbox ----------------------------------------------------------------

    def sync_state(self, destination_id: str, segment_id: str) -> dict[str, str]:
        q = select(S.c.customer_id, S.c.fingerprint).where(
            S.c.destination_id == destination_id, S.c.segment_id == segment_id
        )
        return {cid: fp for cid, fp in self._conn.execute(q)}

    def pending_batches(self, destination_id: str, segment_id: str) -> list[OutboxBatch]:
        q = (
            select(OUT)
            .where(OUT.c.destination_id == destination_id, OUT.c.segment_id == segment_id)
            .order_by(OUT.c.created_at, OUT.c.sequence)
        )
        return [OutboxBatch(**r) for r in self._conn.execute(q).mappings()]

    def add_batches(self, batches: Sequence[OutboxBatch]) -> None:
        if batches:
            self._conn.execute(OUT.insert(), [asdict(b) for b in batches])

    def acknowledge(
        self, batch: OutboxBatch, adds: Sequence[tuple[str, str]], removes: Sequence[str], at: datetime
    ) -> bool:
        """Drop the batch from the outbox and apply it: its customers' state rows are replaced by the
        added fingerprints, removed customers' rows deleted. Nothing is applied when the batch was gone
        (another sync acknowledged it first)."""
        gone = self._conn.execute(delete(OUT).where(OUT.c.batch_id == batch.batch_id)).rowcount
        if gone != 1:
            return False
        pair = (S.c.destination_id == batch.destination_id, S.c.segment_id == batch.segment_id)
        touched = [cid for cid, _ in adds] + list(removes)
        for i in range(0, len(touched), CHUNK):
            self._conn.execute(delete(S).where(*pair, S.c.customer_id.in_(touched[i : i + CHUNK])))
        if adds:
            rows = [
                {
                    "destination_id": batch.destination_id,
                    "segment_id": batch.segment_id,
                    "customer_id": cid,
                    "fingerprint": fp,
                    "synced_at": at,
                }
                for cid, fp in adds
            ]
            self._conn.execute(S.insert(), rows)
        return True

    def record_failure(self, batch_id: str, error: str) -> None:
        q = update(OUT).where(OUT.c.batch_id == batch_id).values(attempts=OUT.c.attempts + 1, last_error=error[:500])
        self._conn.execute(q)


def audience_store(engine: Engine) -> Callable[[], AbstractContextManager[SqlAudienceRepository]]:
    """The service's unit of work on ``engine``: ``with store() as repo`` is one transaction."""

    @contextmanager
    def unit() -> Iterator[SqlAudienceRepository]:
        with engine.begin() as conn:
            yield SqlAudienceRepository(conn)

    return unit
