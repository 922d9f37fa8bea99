"""Stored CLV scores (``clv_scores``): bulk upsert, tiers of the previous run, reads and pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from aftersales.adapters.sql.service_tables import clv_scores
from aftersales.services.ports import ScoreRecord

__all__ = ["SqlScoreRepository"]

C = clv_scores
CHUNK = 5_000  # rows per multi-row statement batch (SQLite allows 32,766 bind parameters)


class SqlScoreRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def tiers(self) -> dict[str, str]:
        return {cid: tier for cid, tier in self._conn.execute(select(C.c.customer_id, C.c.risk_tier))}

    def upsert(self, scores: Sequence[ScoreRecord]) -> None:
        """``INSERT ... ON CONFLICT (customer_id) DO UPDATE`` run for every row (SQLAlchemy batches
        executemany into multi-row statements on both dialects)."""
        if not scores:
            return
        ins = (pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert)(C)
        stmt = ins.on_conflict_do_update(
            index_elements=[C.c.customer_id],
            set_={c.name: ins.excluded[c.name] for c in C.columns if c.name != "customer_id"},
        )
        for i in range(0, len(scores), CHUNK):
            self._conn.execute(stmt, [asdict(s) for s in scores[i : i + CHUNK]])

    def delete_not_computed_at(self, computed_at: datetime) -> int:
        return int(self._conn.execute(delete(C).where(C.c.computed_at != computed_at)).rowcount)

    def get(self, customer_id: str) -> ScoreRecord | None:
        row = self._conn.execute(select(C).where(C.c.customer_id == customer_id)).mappings().first()
        return ScoreRecord(**row) if row else None

    def list(self, *, risk_tier: str | None, after: str | None, limit: int) -> list[ScoreRecord]:
        q = select(C).order_by(C.c.customer_id).limit(limit)
        if risk_tier is not None:
            q = q.where(C.c.risk_tier == risk_tier)
        if after is not None:
            q = q.where(C.c.customer_id > after)
        return [ScoreRecord(**r) for r in self._conn.execute(q).mappings()]
