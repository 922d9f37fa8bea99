"""A store on SQLite and PostgreSQL (a database named per run), hand-made profiles and behaviour on
DuckDB, and the helpers the segment suites share.

``now`` moves from T1 (2024-06-30 12:00 UTC) to T2 (a day later); PROFILES_T1 and PROFILES_T2 are
the profile table at each refresh (between them c1's churn risk falls, c2 gives e-mail consent, c5
withdraws it and c3 orders a second time).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import ibis
import pyarrow as pa
import pytest
from sqlalchemy import func, select

from aftersales.adapters.engines.opening import open_tables
from aftersales.adapters.engines.source import Source
from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.migrate import upgrade
from aftersales.adapters.sql.repositories import unit_of_work_factory
from aftersales.adapters.sql.tables import TABLES
from aftersales.core.contract import arrow_schema
from aftersales.core.segments import profile_schema

T1 = datetime(2024, 6, 30, 12, tzinfo=UTC)
T2 = datetime(2024, 7, 1, 12, tzinfo=UTC)

_BASE: dict[str, dict[str, Any]] = {
    "c1": dict(clv_tier="above_average", churn_risk="high", email_consent=True, orders=5, country="DE",
               categories_bought=["bikes", "helmets"]),
    "c2": dict(clv_tier="above_average", churn_risk="medium", email_consent=False, orders=3, country="FR",
               categories_bought=["bikes"]),
    "c3": dict(clv_tier="below_average", churn_risk="low", email_consent=True, orders=1, country="DE",
               categories_bought=["locks"]),
    "c4": dict(clv_tier="below_average", orders=0),
    "c5": dict(clv_tier="above_average", churn_risk="high", email_consent=True, orders=2, country="US",
               categories_bought=[]),
}  # fmt: skip
_CHANGES_T2: dict[str, dict[str, Any]] = {
    "c1": {"churn_risk": "low"},
    "c2": {"email_consent": True},
    "c3": {"orders": 2},
    "c5": {"email_consent": False},
}
EVENTS = [  # (customer, name, occurred_at)
    ("c1", "checkout_started", datetime(2024, 6, 28, 9, tzinfo=UTC)),
    ("c1", "checkout_completed", datetime(2024, 6, 28, 10, tzinfo=UTC)),
    ("c2", "checkout_started", datetime(2024, 6, 29, 9, tzinfo=UTC)),
    ("c3", "checkout_started", datetime(2024, 6, 10, 9, tzinfo=UTC)),
]

VIP = "clv_tier = 'above_average' and churn_risk in ('high', 'medium') and email_consent"
REPEAT = "orders >= 2"
ABANDONERS = "event('checkout_started', within = 7 days) and not event('checkout_completed', within = 7 days)"


def profile_rows(at: datetime) -> list[dict[str, Any]]:
    changes = _CHANGES_T2 if at >= T2 else {}
    return [{"customer_id": c, **p, **changes.get(c, {})} for c, p in _BASE.items()]


def profiles_arrow(at: datetime, extra: list[dict[str, Any]] | None = None) -> pa.Table:
    return pa.Table.from_pylist([*profile_rows(at), *(extra or [])], schema=profile_schema().to_pyarrow())


def events_arrow() -> pa.Table:
    rows = [dict(event_id=f"e{i}", customer_id=c, name=n, occurred_at=at) for i, (c, n, at) in enumerate(EVENTS)]
    return pa.Table.from_pylist(rows, schema=arrow_schema("events"))


def source_at(at: datetime, *, events: bool = True, extra: list[dict[str, Any]] | None = None) -> Source:
    """The profiles as of ``at`` (and the behaviour events) on DuckDB."""
    tables: dict[str, Any] = {"customer_profiles": profiles_arrow(at, extra)}
    if events:
        tables["events"] = events_arrow()
    return open_tables(tables)


def parquet_source(folder: Any, at: datetime) -> Source:
    """The same tables written to Parquet and read by DuckDB from the files."""
    import pyarrow.parquet as pq

    pq.write_table(profiles_arrow(at), folder / "customer_profiles.parquet")
    pq.write_table(events_arrow(), folder / "events.parquet")
    con = ibis.duckdb.connect()
    return open_tables(
        {
            "customer_profiles": con.read_parquet(folder / "customer_profiles.parquet"),
            "events": con.read_parquet(folder / "events.parquet"),
        }
    )


class Store:
    """A migrated store and a unit-of-work factory on it, with readers for the assertions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        upgrade(self.engine)
        self.uow = unit_of_work_factory(self.engine)

    def write_profiles(self, at: datetime, extra: list[dict[str, Any]] | None = None) -> None:
        """Store the profiles as of ``at`` with the profiles repository (their customers first)."""
        from sqlalchemy.dialects import postgresql, sqlite

        from aftersales.adapters.sql.repositories.profiles import profile_arrow_schema

        rows = [*profile_rows(at), *(extra or [])]
        customers = TABLES["customers"]
        ins = (postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert)(customers)
        with self.engine.begin() as conn:
            conn.execute(ins.on_conflict_do_nothing(), [{"customer_id": r["customer_id"]} for r in rows])
        with self.uow() as u:
            u.profiles.replace_all(pa.Table.from_pylist(rows, schema=profile_arrow_schema()), at)

    def count(self, table: str, **where: Any) -> int:
        from aftersales.adapters.sql.tables import metadata

        t = metadata.tables[table]
        q = select(func.count()).select_from(t)
        for k, v in where.items():
            q = q.where(t.c[k].is_(None) if v is None else t.c[k] == v)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def events(self) -> list[tuple[str, str | None, str]]:
        t = TABLES["events"]
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.event_id, t.c.customer_id, t.c.name).order_by(t.c.event_id))
            return [tuple(r) for r in rows]  # type: ignore[misc]

    def memberships(self, segment_id: str) -> list[tuple[str, datetime, datetime | None]]:
        from aftersales.adapters.sql.segment_tables import segment_memberships as m

        q = select(m.c.customer_id, m.c.entered_at, m.c.exited_at).where(m.c.segment_id == segment_id)
        with self.engine.connect() as conn:
            return sorted(tuple(r) for r in conn.execute(q.order_by(m.c.customer_id, m.c.entered_at)))  # type: ignore[misc]


@pytest.fixture(scope="session")
def _pg_segments_url(fresh_postgres_database: Callable[[str], str]) -> str:
    return fresh_postgres_database("aftersales_segments")


def _empty(store: Store) -> None:
    from aftersales.adapters.sql.tables import metadata

    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """An empty store per test on each database (PostgreSQL: one database per run, emptied per test)."""
    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path_factory.mktemp('segments') / 'store.db'}")
    else:
        s = Store(request.getfixturevalue("_pg_segments_url"))
        _empty(s)
    yield s
    s.engine.dispose()


class World:
    """The hand-made world of these suites, handed to tests as the ``world`` fixture (the suite runs in
    importlib mode, so tests do not import this module)."""

    T1, T2 = T1, T2
    VIP, REPEAT, ABANDONERS = VIP, REPEAT, ABANDONERS
    source_at = staticmethod(source_at)
    parquet_source = staticmethod(parquet_source)
    profile_rows = staticmethod(profile_rows)
    profiles_arrow = staticmethod(profiles_arrow)
    events_arrow = staticmethod(events_arrow)


@pytest.fixture
def world() -> type[World]:
    return World
