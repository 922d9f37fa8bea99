"""Contract rows: the generic resource repository (events have their own writer, ``events.py``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, and_, delete, exists, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from aftersales.adapters.sql.tables import TABLES
from aftersales.core import contract
from aftersales.core.errors import ConflictError

__all__ = ["SqlResourceRepository"]


class SqlResourceRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @staticmethod
    def _where(table: str, match: Mapping[str, Any]) -> Any:
        t = TABLES[table]
        conds = [t.c[k].in_(list(v)) if isinstance(v, list | tuple) else t.c[k] == v for k, v in match.items()]
        return and_(*conds) if conds else None

    def get(self, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        row = self._conn.execute(select(TABLES[table]).where(self._where(table, key))).mappings().first()
        return dict(row) if row is not None else None

    def exists(self, table: str, key: Mapping[str, Any]) -> bool:
        return bool(self._conn.execute(select(exists().where(self._where(table, key)))).scalar())

    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        try:
            self._conn.execute(insert(TABLES[table]), [dict(r) for r in rows])
        except IntegrityError as exc:  # a concurrent create of the same key won the race
            raise ConflictError(f"{table}: a row with this key exists already") from exc

    def update(self, table: str, key: Mapping[str, Any], changes: Mapping[str, Any]) -> None:
        self._conn.execute(update(TABLES[table]).where(self._where(table, key)).values(**changes))

    def delete_where(self, table: str, match: Mapping[str, Any]) -> None:
        self._conn.execute(delete(TABLES[table]).where(self._where(table, match)))

    def select(
        self,
        table: str,
        *,
        where: Mapping[str, Any] | None = None,
        after: Sequence[Any] | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        t = TABLES[table]
        keycols = [t.c[k] for k in contract.get_table(table).key]
        q = select(t).order_by(*keycols)
        if where:
            q = q.where(self._where(table, where))
        if after is not None:
            q = q.where(tuple_(*keycols) > tuple_(*after))
        if limit is not None:
            q = q.limit(limit)
        return [dict(r) for r in self._conn.execute(q).mappings()]
