"""API keys and idempotency records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from aftersales.adapters.sql.service_tables import api_keys, idempotency_keys
from aftersales.services.ports import ApiKeyRecord, IdempotencyRecord

__all__ = ["SqlApiKeyRepository", "SqlIdempotencyRepository"]


class SqlApiKeyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, key: ApiKeyRecord) -> None:
        self._conn.execute(insert(api_keys).values(**key.__dict__))

    def get(self, key_id: str) -> ApiKeyRecord | None:
        row = self._conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).mappings().first()
        return ApiKeyRecord(**row) if row else None

    def list(self) -> list[ApiKeyRecord]:
        rows = self._conn.execute(select(api_keys).order_by(api_keys.c.created_at, api_keys.c.key_id)).mappings()
        return [ApiKeyRecord(**r) for r in rows]

    def revoke(self, key_id: str, at: datetime) -> bool:
        q = update(api_keys).where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None)).values(revoked_at=at)
        return self._conn.execute(q).rowcount == 1


class SqlIdempotencyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _match(self, key_id: str, key: str) -> ColumnElement[bool]:
        return and_(idempotency_keys.c.key_id == key_id, idempotency_keys.c.idempotency_key == key)

    def claim(self, record: IdempotencyRecord) -> bool:
        ins = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        q = ins(idempotency_keys).values(**record.__dict__).on_conflict_do_nothing()
        # RETURNING, not rowcount: psycopg reports -1 for a single-row INSERT through SQLAlchemy 2.1.
        return self._conn.execute(q.returning(idempotency_keys.c.key_id)).first() is not None

    def get(self, key_id: str, idempotency_key: str) -> IdempotencyRecord | None:
        q = select(idempotency_keys).where(self._match(key_id, idempotency_key))
        row = self._conn.execute(q).mappings().first()
        if row is None:
            return None
        return IdempotencyRecord(**{k: v for k, v in row.items() if k != "completed_at"})

    def complete(
        self, key_id: str, idempotency_key: str, status_code: int, content_type: str, body: bytes, at: datetime
    ) -> None:
        q = (
            update(idempotency_keys)
            .where(self._match(key_id, idempotency_key))
            .values(state="completed", status_code=status_code, content_type=content_type, body=body, completed_at=at)
        )
        self._conn.execute(q)

    def release(self, key_id: str, idempotency_key: str) -> None:
        q = delete(idempotency_keys).where(
            self._match(key_id, idempotency_key), idempotency_keys.c.state == "in_progress"
        )
        self._conn.execute(q)

    def take_over(self, key_id: str, idempotency_key: str, stale_before: datetime, at: datetime) -> bool:
        q = (
            update(idempotency_keys)
            .where(
                self._match(key_id, idempotency_key),
                idempotency_keys.c.state == "in_progress",
                idempotency_keys.c.created_at < stale_before,
            )
            .values(created_at=at)
        )
        return self._conn.execute(q).rowcount == 1
