"""The loyalty ledger on SQLite and PostgreSQL (``loyalty_*`` tables; docs/loyalty.md, "Locking").

* **Locking.** A writer first makes sure its members have rows and then locks them. PostgreSQL:
  ``INSERT ... ON CONFLICT DO NOTHING`` and ``SELECT ... FOR UPDATE`` in member id order (a batch
  locks in the same order as everyone else, so two batches never deadlock); a second redemption of
  the same member waits at the lock until the first commits, then reads the rows it wrote (READ
  COMMITTED re-reads after the wait). SQLite: the insert is the transaction's first write, so it
  takes the database's single write lock (waiting up to the engine's ``busy_timeout``) before any
  row the decision depends on is read; writers are serialised and none reads a stale snapshot.
* **Appending.** The writer has decided under the members' locks which rows are missing, so every
  row is new: PostgreSQL takes a batch by ``COPY`` (a few rows by one ``INSERT ... SELECT FROM
  unnest(arrays)``), SQLite by one ``executemany``. ``(member_id, op_key, line)`` is unique: a row
  written twice (a writer that lost its lock) fails the whole transaction as a ``ConflictError``
  instead of landing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from psycopg.errors import UniqueViolation
from sqlalchemy import Connection, and_, case, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from aftersales.adapters.sql.loyalty_tables import (
    loyalty_entries,
    loyalty_members,
    loyalty_programs,
    loyalty_redemptions,
    loyalty_runs,
    loyalty_tier_changes,
)
from aftersales.adapters.sql.repositories.events import sqlite_utc_text
from aftersales.adapters.sql.repositories.loyalty_facts import StoreFacts
from aftersales.adapters.sql.tables import TABLES
from aftersales.adapters.sql.types import UTCDateTime
from aftersales.core.errors import ConflictError
from aftersales.core.loyalty import Entry, LedgerTotals
from aftersales.services.ports_loyalty import (
    HistoryRow,
    MemberFacts,
    MemberRecord,
    ProgramRecord,
    RedemptionRecord,
    RunRecord,
    TierChangeRecord,
)

__all__ = ["SqlLoyaltyRepository"]

E, M, P, R, T, U = (
    loyalty_entries,
    loyalty_members,
    loyalty_programs,
    loyalty_redemptions,
    loyalty_tier_changes,
    loyalty_runs,
)
ORDERS, LINES, PRODUCTS = TABLES["orders"], TABLES["order_lines"], TABLES["products"]
CHUNK = 5_000  # rows per statement
_COLS = (
    "member_id", "op_key", "line", "kind", "points", "locked", "lot_id", "occurred_at", "expires_at", "source",
    "detail", "program_version", "recorded_at",
)  # fmt: skip
_STAGED = ", ".join(_COLS[:11])
_PG_COPY = f"COPY loyalty_entries ({', '.join(_COLS)}) FROM STDIN (FORMAT BINARY)"
_PG_TYPES = ("text", "text", "int4", "text", "int8", "int8", "text", "timestamptz", "timestamptz", "text", "text",
             "int4", "timestamptz")  # fmt: skip
_PG_ADD = (  # a few rows (a redemption): one statement, the columns as arrays
    f"INSERT INTO loyalty_entries ({', '.join(_COLS)}) "
    "SELECT u.*, %s::int, %s::timestamptz FROM unnest(%s::text[], %s::text[], %s::int[], %s::text[], %s::bigint[], "
    "%s::bigint[], %s::text[], %s::timestamptz[], %s::timestamptz[], %s::text[], %s::text[]) AS u"
)
FEW = 100  # rows up to which one INSERT beats a COPY
_PG_ENTRIES = f"SELECT {_STAGED} FROM loyalty_entries WHERE member_id = ANY(%s) ORDER BY entry_id"
_SQLITE_ADD = f"INSERT INTO loyalty_entries ({', '.join(_COLS)}) VALUES ({', '.join('?' * len(_COLS))})"


def _entry(r: Any) -> Entry:
    return Entry(
        r.member_id, r.op_key, r.line, r.kind, r.points, r.locked, r.lot_id, r.occurred_at, r.expires_at,
        r.source, r.detail,
    )  # fmt: skip


class SqlLoyaltyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._pg = conn.dialect.name == "postgresql"

    def _insert(self, table: Any) -> Any:
        return (pg_insert if self._pg else sqlite_insert)(table)

    # -- program -------------------------------------------------------------------------------

    def current_program(self) -> ProgramRecord | None:
        row = self._conn.execute(select(P).order_by(P.c.version.desc()).limit(1)).mappings().first()
        return ProgramRecord(**row) if row else None

    def add_program(self, record: ProgramRecord) -> None:
        try:
            with self._conn.begin_nested():
                self._conn.execute(insert(P).values(**asdict(record)))
        except IntegrityError:
            raise ConflictError(f"program version {record.version} was applied at the same time; apply again") from None

    # -- members -------------------------------------------------------------------------------

    def lock_members(self, ids: Sequence[str], at: datetime) -> set[str]:
        c = TABLES["customers"].c
        ordered = sorted(set(ids))
        locked: set[str] = set()
        for i in range(0, len(ordered), CHUNK):
            chunk = ordered[i : i + CHUNK]
            known = select(c.customer_id, literal(at, UTCDateTime())).where(c.customer_id.in_(chunk))
            self._conn.execute(self._insert(M).from_select(["member_id", "joined_at"], known).on_conflict_do_nothing())
            q = select(M.c.member_id).where(M.c.member_id.in_(chunk)).order_by(M.c.member_id)
            locked.update(r[0] for r in self._conn.execute(q.with_for_update() if self._pg else q))
        return locked

    def member(self, member_id: str) -> MemberRecord | None:
        return self.members([member_id]).get(member_id)

    def members(self, member_ids: Sequence[str]) -> dict[str, MemberRecord]:
        out: dict[str, MemberRecord] = {}
        for i in range(0, len(member_ids), CHUNK):
            q = select(M).where(M.c.member_id.in_(list(member_ids[i : i + CHUNK])))
            out.update((r["member_id"], MemberRecord(**r)) for r in self._conn.execute(q).mappings().all())
        return out

    # -- entries -------------------------------------------------------------------------------

    def entries(self, member_ids: Sequence[str]) -> dict[str, list[Entry]]:
        out: dict[str, list[Entry]] = {}
        for i in range(0, len(member_ids), CHUNK):
            chunk = list(member_ids[i : i + CHUNK])
            if self._pg:  # the driver's rows: SQLAlchemy's result processing cost more than the query here
                with self._raw().cursor() as cur:
                    cur.execute(_PG_ENTRIES, (chunk,))
                    for r in cur.fetchall():
                        at, until = r[7].astimezone(UTC), r[8].astimezone(UTC) if r[8] is not None else None
                        out.setdefault(r[0], []).append(
                            Entry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], at, until, r[9], r[10])
                        )
                continue
            q = select(E).where(E.c.member_id.in_(chunk)).order_by(E.c.entry_id)
            for r in self._conn.execute(q).all():
                out.setdefault(r.member_id, []).append(_entry(r))
        return out

    def _raw(self) -> Any:
        return self._conn.connection.dbapi_connection

    def add_entries(self, entries: Sequence[Entry], program_version: int | None, recorded_at: datetime) -> int:
        if not entries:
            return 0
        try:
            self._append(entries, program_version, recorded_at)
        except (IntegrityError, UniqueViolation):
            raise ConflictError("ledger rows with these keys were written at the same time; run again") from None
        return len(entries)

    def _append(self, entries: Sequence[Entry], version: int | None, recorded_at: datetime) -> None:
        raw = self._raw()
        if self._pg and len(entries) <= FEW:
            columns = [[e.member_id for e in entries], [e.key for e in entries]]
            columns += [[getattr(e, name) for e in entries] for name in _COLS[2:11]]
            with raw.cursor() as cur:
                cur.execute(_PG_ADD, (version, recorded_at, *columns))
        elif self._pg:  # in the order given, so entry ids follow each member's history
            with raw.cursor() as cur, cur.copy(_PG_COPY) as copy:
                copy.set_types(_PG_TYPES)
                for e in entries:
                    copy.write_row((e.member_id, e.key, e.line, e.kind, e.points, e.locked, e.lot_id, e.occurred_at,
                                    e.expires_at, e.source, e.detail, version, recorded_at))  # fmt: skip
        else:
            when = sqlite_utc_text(recorded_at)
            rows = [
                (e.member_id, e.key, e.line, e.kind, e.points, e.locked, e.lot_id, sqlite_utc_text(e.occurred_at),
                 sqlite_utc_text(e.expires_at) if e.expires_at else None, e.source, e.detail, version, when)
                for e in entries
            ]  # fmt: skip
            self._conn.exec_driver_sql(_SQLITE_ADD, rows)

    def history(self, member_id: str, *, after: int | None, limit: int) -> list[HistoryRow]:
        q = select(E).where(E.c.member_id == member_id).order_by(E.c.entry_id.desc()).limit(limit)
        if after is not None:
            q = q.where(E.c.entry_id < after)
        return [HistoryRow(r.entry_id, _entry(r), r.recorded_at, r.program_version) for r in self._conn.execute(q)]

    # -- redemptions, tiers, runs ----------------------------------------------------------------

    def redemption(self, redemption_key: str) -> RedemptionRecord | None:
        row = self._conn.execute(select(R).where(R.c.redemption_key == redemption_key)).mappings().first()
        return RedemptionRecord(**row) if row else None

    def add_redemption(self, record: RedemptionRecord) -> None:
        try:  # no savepoint: on a conflict the whole transaction is given up
            self._conn.execute(insert(R).values(**asdict(record)))
        except IntegrityError:  # the same key, for another member, at the same moment
            raise ConflictError(f"the key {record.redemption_key!r} was used for another redemption") from None

    def tier_changes(self, member_id: str) -> list[TierChangeRecord]:
        q = select(T.c.member_id, T.c.changed_at, T.c.tier, T.c.previous_tier, T.c.qualifying_points)
        q = q.where(T.c.member_id == member_id).order_by(T.c.changed_at)
        return [TierChangeRecord(*r) for r in self._conn.execute(q)]

    def record_tiers(self, changes: Sequence[TierChangeRecord], tiers: dict[str, str], at: datetime) -> int:
        added = 0
        if changes:
            rows = [{**asdict(c), "recorded_at": at} for c in changes]
            added = int(self._conn.execute(self._insert(T).on_conflict_do_nothing(), rows).rowcount or 0)
        by_tier: dict[str, list[str]] = {}
        for member, tier in tiers.items():
            by_tier.setdefault(tier, []).append(member)
        since = {c.member_id: c.changed_at for c in changes}  # the latest change per member (changes are in order)
        for tier, members in by_tier.items():
            for i in range(0, len(members), CHUNK):
                chunk = members[i : i + CHUNK]
                moved = [m for m in chunk if m in since]
                if moved:  # members whose tier changed get their own tier_since
                    for m in moved:
                        self._conn.execute(
                            update(M).where(M.c.member_id == m).values(tier=tier, tier_since=since[m], processed_at=at)
                        )
                rest = [m for m in chunk if m not in since]
                if rest:
                    self._conn.execute(update(M).where(M.c.member_id.in_(rest)).values(tier=tier, processed_at=at))
        return added

    def add_run(self, run: RunRecord) -> None:
        self._conn.execute(self._insert(U).values(**asdict(run)).on_conflict_do_nothing())

    def last_run(self) -> RunRecord | None:
        row = self._conn.execute(select(U).order_by(U.c.run_at.desc()).limit(1)).mappings().first()
        return RunRecord(**row) if row else None

    # -- facts (loyalty_facts.py) -------------------------------------------------------------

    def member_ids(self, now: datetime, *, after: str | None, limit: int, review_event: str | None) -> list[str]:
        return StoreFacts(self._conn).member_ids(now, after=after, limit=limit, review_event=review_event)

    def facts(
        self, member_ids: Sequence[str], now: datetime, *, bonuses: Sequence[str], review_event: str
    ) -> dict[str, MemberFacts]:
        return StoreFacts(self._conn).facts(member_ids, now, bonuses=bonuses, review_event=review_event)

    # -- metrics -------------------------------------------------------------------------------

    def totals(self, now: datetime, settled: datetime | None) -> LedgerTotals:
        pos = func.coalesce(func.sum(case((E.c.points > 0, E.c.points), else_=0)), 0)
        neg = func.coalesce(func.sum(case((E.c.points < 0, -E.c.points), else_=0)), 0)
        q = select(E.c.kind, pos, neg, func.coalesce(func.sum(E.c.locked), 0)).group_by(E.c.kind)
        by_kind = {k: (int(a), int(b), int(lk)) for k, a, b, lk in self._conn.execute(q)}
        lot = E.alias("lot")
        due = and_(lot.c.points > 0, lot.c.expires_at <= now)
        if settled is not None:
            due = and_(due, lot.c.expires_at > settled)
        q = select(func.coalesce(func.sum(E.c.points), 0), func.coalesce(func.sum(E.c.locked), 0)).select_from(
            lot.join(E, and_(E.c.member_id == lot.c.member_id, E.c.lot_id == lot.c.op_key))
        )
        pending, pending_locked = (int(v) for v in self._conn.execute(q.where(due)).one())

        def get(kind: str, i: int) -> int:
            return by_kind.get(kind, (0, 0, 0))[i]

        members = int(self._conn.execute(select(func.count()).select_from(M)).scalar_one())
        outstanding = sum(get(k, 0) - get(k, 1) for k in by_kind)
        return LedgerTotals(
            earned=get("earn", 0),
            awarded=get("adjust", 0),
            deducted=get("adjust", 1),
            redeemed=get("redeem", 1),
            expired=get("expire", 1),
            reversed=get("reverse", 1),
            outstanding=outstanding,
            locked=sum(v[2] for v in by_kind.values()) - pending_locked,
            pending_expiry=pending,
            members=members,
        )

    def tier_distribution(self) -> dict[str | None, int]:
        q = select(M.c.tier, func.count()).group_by(M.c.tier)
        return {tier: int(n) for tier, n in self._conn.execute(q)}

    def tier_movements(self, since: datetime, until: datetime) -> list[tuple[str, str, int]]:
        q = (
            select(T.c.previous_tier, T.c.tier, func.count())
            .where(T.c.changed_at >= since, T.c.changed_at < until)
            .group_by(T.c.previous_tier, T.c.tier)
            .order_by(T.c.previous_tier, T.c.tier)
        )
        return [(a, b, int(n)) for a, b, n in self._conn.execute(q)]

    def redemptions_by_reward(self) -> list[tuple[str, int, int]]:
        q = select(R.c.reward_id, func.count(), func.sum(R.c.points)).group_by(R.c.reward_id).order_by(R.c.reward_id)
        return [(r, int(n), int(pts or 0)) for r, n, pts in self._conn.execute(q)]
