"""The loyalty ledger on SQLite and PostgreSQL (``loyalty_*`` tables; docs/loyalty.md, "Locking").

* **Locking.** A writer first makes sure its members have rows and then locks them. PostgreSQL:
  ``INSERT ... ON CONFLICT DO NOTHING`` and ``SELECT ... FOR UPDATE`` in member id order (a batch
  locks in the same order as everyone else, so two batches never deadlock); a second redemption of
  the same member waits at the lock until the first commits, then reads the rows it wrote (READ
  COMMITTED re-reads after the wait). SQLite: the insert is the transaction's first write, so it
  takes the database's single write lock (waiting up to the engine's ``busy_timeout``) before any
  row the decision depends on is read; writers are serialised and none reads a stale snapshot.
* **Appending.** Rows go in bulk, one statement per batch: ``INSERT ... SELECT FROM unnest(arrays)
  ON CONFLICT DO NOTHING`` on PostgreSQL, one ``executemany`` on SQLite; ``(member_id, op_key,
  line)`` is unique, so a retried write adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, case, func, insert, select, update
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
from aftersales.adapters.sql.tables import TABLES
from aftersales.core.errors import ConflictError
from aftersales.core.loyalty import BonusFact, Entry, LedgerTotals, OrderFacts
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
_PG_ADD = (
    f"INSERT INTO loyalty_entries ({', '.join(_COLS)}) "
    "SELECT u.*, %s::int, %s::timestamptz FROM unnest(%s::text[], %s::text[], %s::int[], %s::text[], %s::bigint[], "
    "%s::bigint[], %s::text[], %s::timestamptz[], %s::timestamptz[], %s::text[], %s::text[]) AS u "
    "ON CONFLICT DO NOTHING"
)
_SQLITE_ADD = (
    f"INSERT INTO loyalty_entries ({', '.join(_COLS)}) VALUES ({', '.join('?' * len(_COLS))}) ON CONFLICT DO NOTHING"
)


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

    def existing_customers(self, ids: Sequence[str]) -> set[str]:
        c = TABLES["customers"].c
        found: set[str] = set()
        for i in range(0, len(ids), CHUNK):
            q = select(c.customer_id).where(c.customer_id.in_(list(ids[i : i + CHUNK])))
            found.update(r[0] for r in self._conn.execute(q))
        return found

    def lock_members(self, ids: Sequence[str], at: datetime) -> None:
        ordered = sorted(set(ids))
        for i in range(0, len(ordered), CHUNK):
            chunk = ordered[i : i + CHUNK]
            self._conn.execute(
                self._insert(M).on_conflict_do_nothing(), [{"member_id": m, "joined_at": at} for m in chunk]
            )
            if self._pg:
                q = select(M.c.member_id).where(M.c.member_id.in_(chunk)).order_by(M.c.member_id).with_for_update()
                self._conn.execute(q).all()

    def member(self, member_id: str) -> MemberRecord | None:
        row = self._conn.execute(select(M).where(M.c.member_id == member_id)).mappings().first()
        return MemberRecord(**row) if row else None

    # -- entries -------------------------------------------------------------------------------

    def entries(self, member_ids: Sequence[str]) -> dict[str, list[Entry]]:
        out: dict[str, list[Entry]] = {}
        for i in range(0, len(member_ids), CHUNK):
            q = select(E).where(E.c.member_id.in_(list(member_ids[i : i + CHUNK]))).order_by(E.c.entry_id)
            for r in self._conn.execute(q):
                out.setdefault(r.member_id, []).append(_entry(r))
        return out

    def add_entries(self, entries: Sequence[Entry], program_version: int | None, recorded_at: datetime) -> int:
        if not entries:
            return 0
        raw: Any = self._conn.connection.dbapi_connection
        if self._pg:
            added = 0
            with raw.cursor() as cur:
                for i in range(0, len(entries), CHUNK):
                    chunk = entries[i : i + CHUNK]
                    columns = [[getattr(e, name) for e in chunk] for name in _COLS[:11] if name != "op_key"]
                    columns.insert(1, [e.key for e in chunk])
                    cur.execute(_PG_ADD, (program_version, recorded_at, *columns))
                    added += int(cur.rowcount)
            return added
        before = raw.total_changes  # executemany's rowcount is unreliable on SQLite
        when = sqlite_utc_text(recorded_at)
        rows = [
            (e.member_id, e.key, e.line, e.kind, e.points, e.locked, e.lot_id, sqlite_utc_text(e.occurred_at),
             sqlite_utc_text(e.expires_at) if e.expires_at else None, e.source, e.detail, program_version, when)
            for e in entries
        ]  # fmt: skip
        self._conn.exec_driver_sql(_SQLITE_ADD, rows)
        return int(raw.total_changes - before)

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
        try:
            with self._conn.begin_nested():
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

    # -- facts ---------------------------------------------------------------------------------

    def _bonus_sources(self, review_event: str | None) -> list[tuple[str, Any, Any, Any, Any]]:
        """``(kind, table, id column, time column, extra conditions)`` of each bonus kind."""
        s, g, ev = TABLES["survey_responses"], TABLES["product_registrations"], TABLES["events"]
        return [
            ("survey_answered", s, s.c.response_id, s.c.responded_at, ()),
            ("product_registered", g, g.c.registration_id, g.c.registered_at, ()),
            ("review_written", ev, ev.c.event_id, ev.c.occurred_at, (ev.c.name == (review_event or ""),)),
        ]  # fmt: skip

    def member_ids(self, now: datetime, *, after: str | None, limit: int, review_event: str | None) -> list[str]:
        o = ORDERS
        parts = [select(o.c.customer_id).where(o.c.ordered_at <= now), select(M.c.member_id)]
        for kind, table, _id, at, extra in self._bonus_sources(review_event):
            if kind != "review_written" or review_event:
                parts.append(select(table.c.customer_id).where(at <= now, *extra))
        found: set[str] = set()
        for part in parts:  # one keyset read per source (SQLite has no LIMIT inside a UNION's members)
            column = part.selected_columns[0]
            q = part.where(column.is_not(None)).distinct().order_by(column).limit(limit)
            if after is not None:
                q = q.where(column > after)
            found.update(r[0] for r in self._conn.execute(q))
        return sorted(found)[:limit]

    def facts(
        self, member_ids: Sequence[str], now: datetime, *, bonuses: Sequence[str], review_event: str
    ) -> dict[str, MemberFacts]:
        out: dict[str, MemberFacts] = {m: MemberFacts() for m in member_ids}
        o, ln, p = ORDERS, LINES, PRODUCTS
        for i in range(0, len(member_ids), CHUNK):
            chunk = list(member_ids[i : i + CHUNK])
            placed = select(o.c.order_id).where(o.c.customer_id.in_(chunk), o.c.ordered_at <= now)
            lines: dict[str, list[tuple[str | None, Decimal]]] = {}
            q = (
                select(ln.c.order_id, p.c.category, ln.c.quantity, ln.c.unit_price, ln.c.discount)
                .select_from(ln.outerjoin(p, p.c.product_id == ln.c.product_id))
                .where(ln.c.order_id.in_(placed))
            )
            for r in self._conn.execute(q):
                amount = Decimal(r.quantity or 0) * Decimal(r.unit_price or 0) - Decimal(r.discount or 0)
                lines.setdefault(r.order_id, []).append((r.category, amount))
            q = select(o).where(o.c.customer_id.in_(chunk), o.c.ordered_at <= now).order_by(o.c.ordered_at)
            for r in self._conn.execute(q):
                out[r.customer_id].orders.append(
                    OrderFacts(
                        r.order_id,
                        r.customer_id,
                        r.ordered_at,
                        Decimal(r.revenue),
                        r.currency or "USD",
                        tuple(lines.get(r.order_id, ())),
                        r.delivered_at,
                        r.returned_at,
                        r.cancelled_at,
                        r.status or "placed",
                    )
                )
            for kind, table, id_col, at, extra in self._bonus_sources(review_event):
                if kind not in bonuses:
                    continue
                acts = (
                    select(table.c.customer_id, id_col, func.min(at))
                    .where(table.c.customer_id.in_(chunk), at <= now, *extra)
                    .group_by(table.c.customer_id, id_col)
                )
                for member, ref, when in self._conn.execute(acts):
                    out[member].bonuses.append(BonusFact(kind, str(ref), member, when))
        return out

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
