"""Profiles of the hand-made store (``handmade.py``, worked out by hand) on every engine: DuckDB over
the SQLite store, PostgreSQL in place, DuckDB over Parquet and Spark; written to the store twice
(idempotent) and read back, by one customer and as the analytical table."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import pytest

from aftersales.adapters.engines import open_source
from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.repositories import unit_of_work_factory
from aftersales.adapters.sql.repositories.profiles import read_profiles
from aftersales.core.metrics.clv_historical import historical_clv
from aftersales.services.analytical.profiles import ProfileBuild, build_profiles, refresh_profiles


def _check(build: ProfileBuild, h: Any) -> None:
    rows = {r["customer_id"]: r for r in build.table.to_pylist()}
    assert sorted(rows) == [f"c{i}" for i in range(1, 9)]
    for cid, expected in h.EXPECTED.items():
        got = {k: rows[cid][k] for k in expected}
        assert got == expected, cid
    lifespan = build.lifespan_years
    assert lifespan is not None and lifespan > 0
    for cid, year in h.YEAR_REVENUE.items():
        assert rows[cid]["historical_clv"] == pytest.approx(year * lifespan)
    assert build.customers_with_orders == 6 and build.repeat_customers == h.REPEAT_CUSTOMERS
    assert not build.predictive and "this store has 2" in (build.predictive_note or "")
    assert {r["predictive_note"] for r in rows.values()} == {build.predictive_note}
    assert all(r[k] is None for r in rows.values() for k in ("p_alive", "predicted_clv_365d", "churn_risk"))


def test_handmade_profiles_from_the_store(handmade_store: str, handmade: Any) -> None:
    with open_source(handmade_store) as src:
        build = build_profiles(src, handmade.NOW)
        # historical CLV is the metric's per customer: its mean over the year's buyers is the metric's value
        [metric] = src.execute(historical_clv(src.table("orders"), as_of=handmade.NOW.date()))
    _check(build, handmade)
    year_buyers = [r["historical_clv"] for r in build.table.to_pylist() if handmade.YEAR_REVENUE.get(r["customer_id"])]
    assert sum(year_buyers) / len(year_buyers) == pytest.approx(metric["value"])
    assert build.lifespan_years == pytest.approx(metric["lifespan_years"])


def test_handmade_profiles_from_parquet(handmade_parquet: Any, handmade: Any) -> None:
    with open_source(str(handmade_parquet)) as src:
        _check(build_profiles(src, handmade.NOW), handmade)


@pytest.mark.spark
@pytest.mark.slow
def test_handmade_profiles_on_spark(handmade_parquet: Any, handmade: Any) -> None:
    pytest.importorskip("pyspark")
    with open_source(str(handmade_parquet), "spark") as src:
        _check(build_profiles(src, handmade.NOW), handmade)


def _stored(url: str) -> list[dict[str, Any]]:
    engine = make_engine(url)
    try:
        return read_profiles(engine).to_pylist()
    finally:
        engine.dispose()


def test_refresh_twice_stores_the_same_profiles_once(handmade_store: str, handmade: Any) -> None:
    engine = make_engine(handmade_store)
    uow = unit_of_work_factory(engine)
    try:
        with open_source(handmade_store) as src:
            first = refresh_profiles(uow, src, handmade.NOW, refreshed_at=handmade.NOW + timedelta(hours=1))
            once = _stored(handmade_store)
            second = refresh_profiles(uow, src, handmade.NOW, refreshed_at=handmade.NOW + timedelta(hours=2))
            twice = _stored(handmade_store)
            served = src.to_arrow(src.table("customer_profiles")).to_pylist()  # the store source serves them
        assert first.written == second.written == len(once) == len(twice) == 8
        strip = [{k: v for k, v in r.items() if k != "refreshed_at"} for r in once]
        assert strip == [{k: v for k, v in r.items() if k != "refreshed_at"} for r in twice]
        assert {r["refreshed_at"] for r in twice} == {handmade.NOW + timedelta(hours=2)}
        assert strip == first.build.table.sort_by("customer_id").to_pylist()
        assert sorted(r["customer_id"] for r in served) == [r["customer_id"] for r in once]
        with uow() as u:
            c1, missing = u.profiles.get("c1"), u.profiles.get("nobody")
        assert missing is None
        assert {k: c1[k] for k in handmade.EXPECTED["c1"]} == handmade.EXPECTED["c1"]
        assert c1["historical_clv"] == pytest.approx(150.0 * first.build.lifespan_years)
        assert c1["refreshed_at"] == handmade.NOW + timedelta(hours=2) and c1["lookalike_score"] is None
        assert not any(isinstance(v, float) and math.isnan(v) for v in c1.values())
    finally:
        engine.dispose()
