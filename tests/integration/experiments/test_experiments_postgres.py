"""The experiment builders give the same sums on PostgreSQL as on DuckDB (DESIGN: one cross-engine test)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import ibis
import numpy as np
import pandas as pd
import pytest
from sqlalchemy.engine import make_url

from aftersales.core.experiments.capping import capped_column
from aftersales.core.experiments.outcomes import order_outcomes
from aftersales.core.experiments.summaries import MetricSpec, summary_statistics

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(5)
    n = 400
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    exposures = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "variant": rng.choice(["control", "b"], n),
            "exposed_at": [t0 + timedelta(hours=int(h)) for h in rng.integers(0, 240, n)],
        }
    )
    m = 1500
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(m)],
            "customer_id": [f"c{i}" for i in rng.integers(0, n, m)],
            "status": rng.choice(["paid", "delivered", "cancelled"], m, p=[0.5, 0.4, 0.1]),
            "ordered_at": [t0 + timedelta(hours=int(h)) for h in rng.integers(-24 * 60, 24 * 60, m)],
            "cancelled_at": pd.Series([pd.NaT] * m, dtype="datetime64[us, UTC]"),
            "returned_at": pd.Series([pd.NaT] * m, dtype="datetime64[us, UTC]"),
            "revenue": np.round(rng.lognormal(3, 1, m), 2),
        }
    )
    return {"exposures": exposures, "orders": orders}


@pytest.fixture(scope="module")
def pg(data, postgres_url):
    url = make_url(postgres_url)
    con = ibis.postgres.connect(host=url.host, port=url.port, user=url.username, database=url.database)
    schema = f"experiments_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:6]}"
    con.raw_sql(f'CREATE SCHEMA "{schema}"')
    tables = {name: con.create_table(name, frame, database=schema) for name, frame in data.items()}
    yield tables
    con.raw_sql(f'DROP SCHEMA "{schema}" CASCADE')
    con.disconnect()


def _pipeline(exposures: ibis.Table, orders: ibis.Table) -> pd.DataFrame:
    outcomes = order_outcomes(exposures, orders, window_days=14, pre_days=30)
    outcomes = capped_column(outcomes, "revenue", upper=0.9, ignore_zeros=True)
    specs = {
        "repeat_purchase": MetricSpec("repeat_purchase"),
        "revenue": MetricSpec("revenue", covariate="pre_revenue"),
        "revenue_per_order": MetricSpec("revenue", denominator="orders"),
    }
    out = summary_statistics(outcomes, specs).to_pandas()
    return out.sort_values(["metric", "variant"]).reset_index(drop=True)


def test_postgres_sums_equal_duckdb(data, pg):
    expected = _pipeline(ibis.memtable(data["exposures"]), ibis.memtable(data["orders"]))
    got = _pipeline(pg["exposures"], pg["orders"])
    assert got[["metric", "variant", "kind"]].values.tolist() == expected[["metric", "variant", "kind"]].values.tolist()
    assert got["n"].tolist() == expected["n"].tolist()
    for c in ("sum", "sum_squares", "pre_sum", "cross_sum", "denominator_sum", "denominator_cross_sum"):
        np.testing.assert_allclose(got[c].to_numpy(float), expected[c].to_numpy(float), rtol=1e-9, err_msg=c)
    assert expected.loc[expected.metric == "revenue", "sum"].gt(0).all()
