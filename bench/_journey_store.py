"""Bench-only: a store for the journey benchmark and the kill -9 soak (bench/bench_journeys.py,
bench/soak_journeys.py, tests/integration/journeys/test_soak_kill9.py).

* :func:`store_url`: a fresh PostgreSQL database named for this process
  (``aftersales_bench_<what>_<pid>``, dropped by :func:`drop`) or a SQLite file, migrated;
* :func:`add_audience`: ``n`` customers (address, name, consent, a few time zones and locales), their
  profile rows and a saved segment holding them all, written in bulk (``COPY`` on PostgreSQL, one
  ``executemany`` per table on SQLite): a 1M-customer store in seconds, not the importer's minutes;
* :func:`apply_journey` / :func:`start`: a journey applied and the segment started through the
  product's own services (``definitions.apply``, ``enroll.enroll_segment``);
* :func:`counts`: messages and enrollments by status; :func:`sent_window`: first start and last
  finish of the sent messages (the store's own clock readings).

Never used by the product.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.migrate import upgrade
from aftersales.adapters.sql.repositories import unit_of_work_factory
from aftersales.adapters.sql.repositories.events import sqlite_utc_text
from aftersales.services.operational.journeys import definitions
from aftersales.services.operational.journeys.enroll import Entered, enroll_segment

__all__ = ["add_audience", "apply_journey", "counts", "drop", "sent_window", "start", "store_url"]

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SEGMENT = "bench-audience"
_ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", None)
_LOCALES = ("en", "de", "en_GB", None)
_TIERS = ("above_average", "average", "below_average")
_CREATED = datetime(2024, 1, 1, tzinfo=UTC)


def _admin() -> Any:
    return make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")


def store_url(kind: str, name: str, *, folder: str = "/tmp") -> str:
    """A fresh, migrated store: ``kind`` ``postgres`` (database ``name``, re-created) or ``sqlite``
    (``folder/name.db``, re-created)."""
    if kind == "postgres":
        admin = _admin()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = str(make_url(PG_ADMIN).set(database=name))
    else:
        from pathlib import Path

        path = Path(folder) / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def drop(url: str) -> None:
    """Drop the store made by :func:`store_url`."""
    u = make_url(url)
    if u.get_backend_name() == "postgresql":
        admin = _admin()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
        admin.dispose()
        return
    from pathlib import Path

    for suffix in ("", "-wal", "-shm"):
        Path(f"{u.database}{suffix}").unlink(missing_ok=True)


def _rows(n: int, first: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    customers, profiles, members = [], [], []
    for i in range(first, first + n):
        cid = f"c{i:08d}"
        customers.append((cid, f"{cid}@bench.example", f"Customer {i}", True, _ZONES[i % 4], _LOCALES[i % 4], _CREATED))
        profiles.append((cid, 1 + i % 5, _TIERS[i % 3], "low", _CREATED))
        members.append(("seg_bench", cid, _CREATED))
    return customers, profiles, members


_CUSTOMER_COLS = "customer_id, email, name, email_consent, timezone, locale, created_at"
_PROFILE_COLS = "customer_id, orders, clv_tier, churn_risk, refreshed_at"
_MEMBER_COLS = "segment_id, customer_id, entered_at"


def add_audience(url: str, n: int, *, chunk: int = 200_000) -> None:
    """``n`` customers with profiles, all members of the segment :data:`SEGMENT` (module docstring)."""
    u = make_url(url)
    segment = ("seg_bench", SEGMENT, "{}", SEGMENT, _CREATED, _CREATED)
    if u.get_backend_name() == "sqlite":
        con = sqlite3.connect(u.database or "")
        con.execute("PRAGMA journal_mode=WAL")

        def ts(row: tuple[Any, ...]) -> tuple[Any, ...]:
            return tuple(sqlite_utc_text(v) if isinstance(v, datetime) else v for v in row)

        con.execute("INSERT INTO segments (segment_id, name, definition_json, definition_text, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?)", ts(segment))  # fmt: skip
        for first in range(0, n, chunk):
            customers, profiles, members = _rows(min(chunk, n - first), first)
            for table, cols, rows in (
                ("customers", _CUSTOMER_COLS, customers),
                ("customer_profiles", _PROFILE_COLS, profiles),
                ("segment_memberships", _MEMBER_COLS, members),
            ):
                marks = ", ".join("?" * len(rows[0]))
                con.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", map(ts, rows))
            con.commit()
        con.close()
        return
    import psycopg

    with psycopg.connect(u.set(drivername="postgresql").render_as_string(hide_password=False)) as conn:
        conn.execute(
            "INSERT INTO segments (segment_id, name, definition_json, definition_text, created_at, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            segment,
        )
        for first in range(0, n, chunk):
            customers, profiles, members = _rows(min(chunk, n - first), first)
            for table, cols, rows in (
                ("customers", _CUSTOMER_COLS, customers),
                ("customer_profiles", _PROFILE_COLS, profiles),
                ("segment_memberships", _MEMBER_COLS, members),
            ):
                with conn.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as cp:
                    for row in rows:
                        cp.write_row(row)
        conn.commit()
        conn.autocommit = True
        for table in ("customers", "customer_profiles", "segment_memberships", "segments"):
            conn.execute(f"ANALYZE {table}")


def apply_journey(url: str, document: Mapping[str, Any]) -> str:
    """Apply ``document`` (created active); the journey's id."""
    engine = make_engine(url)
    try:
        applied = definitions.apply(unit_of_work_factory(engine), document)
    finally:
        engine.dispose()
    return applied.journey.journey_id


def start(url: str, journey: str, now: datetime | None = None) -> Entered:
    """Start ``journey`` with the segment :data:`SEGMENT` (``aftersales journeys start``'s service)."""
    engine = make_engine(url)
    try:
        return enroll_segment(unit_of_work_factory(engine), journey, now or datetime.now(UTC), segment=SEGMENT)
    finally:
        engine.dispose()


def counts(engine: Any, journey_id: str | None = None) -> dict[str, dict[str, int]]:
    """``{"messages": {status: n}, "enrollments": {status: n}}`` (of one journey, or all)."""
    where = "WHERE journey_id = :j" if journey_id else ""
    out: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for table, key in (("journey_messages", "messages"), ("journey_enrollments", "enrollments")):
            q = text(f"SELECT status, count(*) FROM {table} {where} GROUP BY status")
            out[key] = {str(s): int(c) for s, c in conn.execute(q, {"j": journey_id})}
    return out


def sent_window(engine: Any, journey_id: str) -> tuple[datetime, datetime] | None:
    """First ``started_at`` and last ``finished_at`` of the journey's sent messages (UTC)."""
    q = text("SELECT min(started_at), max(finished_at) FROM journey_messages WHERE journey_id = :j AND status = 'sent'")
    with engine.connect() as conn:
        first, last = conn.execute(q, {"j": journey_id}).one()
    if first is None:
        return None
    return _utc(first), _utc(last)


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite's text form
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def reset_messages(engine: Any, journey_id: str, now: datetime) -> None:
    """Put a journey's messages back in the queue as if never attempted (a second run on the same rows);
    their ``message.sent`` events go too."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE journey_messages SET status = 'queued', attempts = 0, started_at = NULL, finished_at = NULL, "
                "rfc_message_id = NULL, detail = NULL, lease_token = NULL, lease_until = NULL, not_before = :now "
                "WHERE journey_id = :j"
            ),
            {"j": journey_id, "now": now if engine.dialect.name == "postgresql" else sqlite_utc_text(now)},
        )
        conn.execute(text("DELETE FROM events WHERE event_id LIKE 'msg:%'"))
        conn.execute(text("DELETE FROM send_pacing"))


def past(seconds: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)
