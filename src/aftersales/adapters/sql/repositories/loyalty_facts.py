"""What the store says a member did, for settling the ledger: orders with their lines' categories,
and the acts that earn bonuses (survey answers, product registrations, review events).

PostgreSQL reads orders and lines through the driver's cursor with ``= ANY(array)``: at a batch of
thousands of members, SQLAlchemy's row processing cost more than the queries. SQLite reads through
SQLAlchemy Core (its type processing turns the stored UTC text into aware datetimes).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from aftersales.adapters.sql.loyalty_tables import loyalty_members
from aftersales.adapters.sql.tables import TABLES
from aftersales.core.loyalty import BonusFact, OrderFacts
from aftersales.services.ports_loyalty import MemberFacts

__all__ = ["StoreFacts"]

ORDERS, LINES, PRODUCTS = TABLES["orders"], TABLES["order_lines"], TABLES["products"]
M = loyalty_members
CHUNK = 5_000  # members per statement
_PG_ORDERS = (
    "SELECT order_id, customer_id, ordered_at, revenue, currency, delivered_at, returned_at, cancelled_at, status "
    "FROM orders WHERE customer_id = ANY(%s) AND ordered_at <= %s ORDER BY ordered_at"
)
_PG_LINES = (
    "SELECT l.order_id, p.category, l.quantity * l.unit_price - coalesce(l.discount, 0) FROM order_lines l "
    "JOIN orders o ON o.order_id = l.order_id LEFT JOIN products p ON p.product_id = l.product_id "
    "WHERE o.customer_id = ANY(%s) AND o.ordered_at <= %s"
)


class StoreFacts:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._pg = conn.dialect.name == "postgresql"

    def _raw(self) -> Any:
        return self._conn.connection.dbapi_connection

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

    def _orders_pg(self, chunk: list[str], now: datetime, out: dict[str, MemberFacts]) -> None:
        """Orders and their lines through the driver (SQLAlchemy's row processing was most of the time)."""
        lines: dict[str, list[tuple[str | None, Decimal]]] = {}
        with self._raw().cursor() as cur:
            cur.execute(_PG_LINES, (chunk, now))
            for order_id, category, amount in cur.fetchall():
                lines.setdefault(order_id, []).append((category, amount))
            cur.execute(_PG_ORDERS, (chunk, now))
            for r in cur.fetchall():
                delivered, returned, cancelled = (t.astimezone(UTC) if t is not None else None for t in r[5:8])
                facts = OrderFacts(r[0], r[1], r[2].astimezone(UTC), r[3], r[4] or "USD", tuple(lines.get(r[0], ())),
                                   delivered, returned, cancelled, r[8] or "placed")  # fmt: skip
                out[r[1]].orders.append(facts)

    def _orders(self, chunk: list[str], now: datetime, out: dict[str, MemberFacts]) -> None:
        o, ln, p = ORDERS, LINES, PRODUCTS
        placed = select(o.c.order_id).where(o.c.customer_id.in_(chunk), o.c.ordered_at <= now)
        lines: dict[str, list[tuple[str | None, Decimal]]] = {}
        q = (
            select(ln.c.order_id, p.c.category, ln.c.quantity, ln.c.unit_price, ln.c.discount)
            .select_from(ln.outerjoin(p, p.c.product_id == ln.c.product_id))
            .where(ln.c.order_id.in_(placed))
        )
        for r in self._conn.execute(q).all():
            amount = Decimal(r.quantity or 0) * Decimal(r.unit_price or 0) - Decimal(r.discount or 0)
            lines.setdefault(r.order_id, []).append((r.category, amount))
        q = select(o).where(o.c.customer_id.in_(chunk), o.c.ordered_at <= now).order_by(o.c.ordered_at)
        for r in self._conn.execute(q).all():
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

    def facts(
        self, member_ids: Sequence[str], now: datetime, *, bonuses: Sequence[str], review_event: str
    ) -> dict[str, MemberFacts]:
        out: dict[str, MemberFacts] = {m: MemberFacts() for m in member_ids}
        for i in range(0, len(member_ids), CHUNK):
            chunk = list(member_ids[i : i + CHUNK])
            (self._orders_pg if self._pg else self._orders)(chunk, now, out)
            for kind, table, id_col, at, extra in self._bonus_sources(review_event):
                if kind not in bonuses:
                    continue
                acts = (
                    select(table.c.customer_id, id_col, func.min(at))
                    .where(table.c.customer_id.in_(chunk), at <= now, *extra)
                    .group_by(table.c.customer_id, id_col)
                )
                for member, ref, when in self._conn.execute(acts).all():
                    out[member].bonuses.append(BonusFact(kind, str(ref), member, when))
        return out
