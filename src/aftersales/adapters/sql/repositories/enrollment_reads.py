"""What the journey runtime reads to decide (the reading half of ``SqlEnrollmentRepository``).

Trigger facts come from the store's own tables (orders, registrations, tickets, survey responses,
the events table): :meth:`EnrollmentReads.facts` reads those of one fact source in a time range, in
(time, key) order so that a large range can be read in pages. Properties come back JSON-safe: money
as float, time stamps and dates as ISO text, the events table's JSON object merged in.

A list of ids travels as one array parameter on PostgreSQL (``= ANY(%s::text[])``: one statement
text whatever the list's length, so neither SQLAlchemy nor the driver re-renders and re-parses a
statement of 500 placeholders per batch) and as ``IN (...)`` in chunks of :data:`CHUNK` on SQLite
(32,766 parameters per statement at most); every read is one indexed query per chunk.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, Date, Table, Text, and_, any_, bindparam, literal_column, or_, select
from sqlalchemy.dialects.postgresql import ARRAY

from aftersales.adapters.sql.journey_tables import suppressions
from aftersales.adapters.sql.profile_tables import customer_profiles
from aftersales.adapters.sql.segment_tables import segment_memberships
from aftersales.adapters.sql.tables import TABLES, metadata
from aftersales.core.journeys.facts import EVENTS_TABLE, FactSource
from aftersales.services.ports_enrollments import Contact, FactRow

__all__ = ["CHUNK", "EnrollmentReads", "chunks", "plain"]

CHUNK = 5_000
PG_CHUNK = 100_000
RUNNING_SUBSCRIPTIONS = ("active", "trialing")
OPT_OUTS = ("unsubscribed", "complaint")  # a complaint is the strongest unsubscribe


def chunks(ids: Collection[str], size: int = CHUNK) -> Iterator[list[str]]:
    """``ids`` in lists of at most ``size`` (sorted, so that statements are repeatable)."""
    items = sorted(set(ids))
    for i in range(0, len(items), size):
        yield items[i : i + size]


def plain(value: Any) -> Any:
    """A column value as JSON can carry it: money as float, dates and times as ISO text.

    >>> plain(Decimal("12.50")), plain(date(2026, 1, 2))
    (12.5, '2026-01-02')
    """
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _day(value: datetime) -> date:
    """The UTC day of an instant."""
    return value.astimezone(UTC).date()


def _table(name: str) -> Table:
    table = metadata.tables.get(name)
    if table is None:
        raise ValueError(f"no table {name!r} in the store")
    return table


class EnrollmentReads:
    """Reads over the store's tables for the runtime (see the module)."""

    _conn: Connection

    def _parts(self, ids: Collection[str]) -> Iterator[list[str]]:
        return chunks(ids, PG_CHUNK if self._conn.dialect.name == "postgresql" else CHUNK)

    def _among(self, column: ColumnElement[Any], ids: list[str]) -> ColumnElement[bool]:
        """``column`` is one of ``ids`` (see the module for the two forms)."""
        if self._conn.dialect.name == "postgresql":
            return column == any_(bindparam(None, ids, type_=ARRAY(Text())))
        return column.in_(ids)

    def facts(
        self,
        source: FactSource,
        *,
        since: datetime,
        until: datetime,
        customer_ids: Collection[str] | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int | None = None,
    ) -> list[FactRow]:
        t = _table(source.table)
        who, when, key = t.c[source.customer_column], t.c[source.time_column], t.c[source.key_column]
        cols = [who.label("_who"), key.label("_key"), when.label("_at")]
        cols += [t.c[p].label(f"p_{p}") for p in source.properties]
        if source.from_json:
            cols.append(t.c.properties.label("_json"))
        q = select(*cols).where(who.is_not(None), when >= since, when <= until).order_by(when, key)
        if source.table == EVENTS_TABLE:
            q = q.where(t.c.name == source.name)
        if after is not None:
            q = q.where(or_(when > after[0], and_(when == after[0], key > after[1])))
        if limit is not None:
            q = q.limit(limit)
        if customer_ids is None:
            return [self._fact(source, r) for r in self._conn.execute(q).mappings()]
        out: list[FactRow] = []
        for part in self._parts(customer_ids):
            out += [self._fact(source, r) for r in self._conn.execute(q.where(self._among(who, part))).mappings()]
        out.sort(key=lambda f: (f.occurred_at, f.key))
        return out[:limit] if limit is not None else out

    @staticmethod
    def _fact(source: FactSource, row: Any) -> FactRow:
        props: dict[str, Any] = {}
        if source.from_json and row["_json"]:
            try:
                extra = json.loads(row["_json"])
            except ValueError:
                extra = None
            if isinstance(extra, dict):
                props.update(extra)
        props.update({p: plain(row[f"p_{p}"]) for p in source.properties})
        return FactRow(source.name, str(row["_who"]), str(row["_key"]), row["_at"], props)

    def profiles(self, customer_ids: Collection[str]) -> dict[str, dict[str, Any]]:
        p = customer_profiles
        out: dict[str, dict[str, Any]] = {}
        for part in self._parts(customer_ids):
            for row in self._conn.execute(select(p).where(self._among(p.c.customer_id, part))).mappings():
                out[row["customer_id"]] = dict(row)
        return out

    def profile_dates(
        self, column: str, lo: datetime, hi: datetime, *, after: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        p = customer_profiles
        col = p.c[column]
        # A date column: the UTC days the instants fall on (a day means its 00:00 UTC).
        bounds = (_day(lo), _day(hi)) if isinstance(col.type, Date) else (lo, hi)
        q = select(p).where(col >= bounds[0], col <= bounds[1]).order_by(p.c.customer_id)
        if after is not None:
            q = q.where(p.c.customer_id > after)
        if limit is not None:
            q = q.limit(limit)
        return [dict(r) for r in self._conn.execute(q).mappings()]

    def running_subscriptions(self, *, after: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        s = TABLES["subscriptions"]
        q = (
            select(s)
            .where(s.c.status.in_(RUNNING_SUBSCRIPTIONS), s.c.cancelled_at.is_(None))
            .order_by(s.c.subscription_id)
        )
        if after is not None:
            q = q.where(s.c.subscription_id > after)
        if limit is not None:
            q = q.limit(limit)
        return [dict(r) for r in self._conn.execute(q).mappings()]

    def contacts(self, customer_ids: Collection[str]) -> dict[str, Contact]:
        c = TABLES["customers"]
        out: dict[str, Contact] = {}
        for part in self._parts(customer_ids):
            who = self._among(c.c.customer_id, part)
            q = select(c.c.customer_id, c.c.timezone, c.c.locale, c.c.email_consent).where(who)
            for cid, zone, locale, consent in self._conn.execute(q):
                out[cid] = Contact(cid, zone, locale, bool(consent))
        return out

    def members(self, segment_id: str, customer_ids: Collection[str]) -> set[str]:
        m = segment_memberships
        # ``+exited_at`` on SQLite: keep the planner on the primary key's (segment_id, customer_id)
        # prefix instead of scanning every open row of the segment (adapters/sql/repositories/segments.py).
        open_row = m.c.exited_at.is_(None)
        if self._conn.dialect.name == "sqlite":
            open_row = literal_column("+exited_at").is_(None)
        out: set[str] = set()
        for part in self._parts(customer_ids):
            who = self._among(m.c.customer_id, part)
            q = select(m.c.customer_id).where(m.c.segment_id == segment_id, who, open_row)
            out.update(self._conn.execute(q).scalars())
        return out

    def unsubscribed(self, customer_ids: Collection[str], channel: str, topic: str) -> set[str]:
        s = suppressions
        out: set[str] = set()
        for part in self._parts(customer_ids):
            q = select(s.c.customer_id).where(
                self._among(s.c.customer_id, part),
                s.c.channel == channel,
                s.c.topic.in_([topic, "*"]),
                s.c.reason.in_(OPT_OUTS),
            )
            out.update(self._conn.execute(q).scalars())
        return out
