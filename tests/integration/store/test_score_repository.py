"""The stored CLV scores on SQLite and PostgreSQL: the bulk upsert (driver ``executemany`` on SQLite,
``COPY`` through a staging table on PostgreSQL) writes values that read back exactly, updates rows on a
second run, keeps the previous run's tiers readable, and drops rows a later run did not compute."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from sqlalchemy import insert

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.repositories import unit_of_work_factory
from aftersales.adapters.sql.tables import TABLES
from aftersales.services.ports import ScoreRecord

RUN1 = datetime(2024, 6, 30, 12, 0, 0, 123456, tzinfo=UTC)
RUN2 = datetime(2024, 7, 1, 12, tzinfo=UTC)
IDS = [f"c{i:04d}" for i in range(1, 1201)]  # more than one batch of rows per statement on neither side


def _record(cid: str, i: int, at: datetime) -> ScoreRecord:
    return ScoreRecord(
        customer_id=cid,
        model="bgnbd",
        calibration_end=date(2024, 6, 29),
        time_unit="week",
        horizon=52.0,
        p_alive=1.0 / (i + 3),
        expected_purchases=i / 7.0,
        expected_spend=None if i % 5 == 0 else 10.0 + i / 3.0,
        clv=None if i % 7 == 0 else 1e-5 * i,
        risk_tier=("high", "medium", "low")[i % 3],
        computed_at=at,
    )


def test_bulk_upsert_round_trip_update_and_prune(store_url: str) -> None:
    engine = make_engine(store_url)
    with engine.begin() as conn:
        conn.execute(insert(TABLES["customers"]), [{"customer_id": c} for c in IDS])
    uow = unit_of_work_factory(engine)
    first = [_record(c, i, RUN1) for i, c in enumerate(IDS)]
    with uow() as u:
        assert u.scores.tiers() == {}
        u.scores.upsert(first)
        assert u.scores.delete_not_computed_at(RUN1) == 0
    with uow() as u:
        assert u.scores.get("c0001") == first[0] and u.scores.get("c0035") == first[34]
        assert u.scores.list(risk_tier=None, after=None, limit=len(IDS)) == first
        assert u.scores.tiers() == {r.customer_id: r.risk_tier for r in first}
    second = [replace(r, risk_tier="low", p_alive=0.5, computed_at=RUN2) for r in first[100:]]
    with uow() as u:
        u.scores.upsert(second)
        assert u.scores.delete_not_computed_at(RUN2) == 100  # the first 100 were not scored again
    with uow() as u:
        assert u.scores.list(risk_tier=None, after=None, limit=len(IDS)) == second
        assert u.scores.list(risk_tier="high", after=None, limit=10) == []
    engine.dispose()
