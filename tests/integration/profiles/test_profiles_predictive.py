"""The predictive columns on a generated store (enough history): equal to the CLV service's scores with
a 365-day horizon fitted up to the day before the as-of day; and the CLI ``aftersales refresh``."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from aftersales.adapters.engines import open_dataframes
from aftersales.core.clv.options import ClvOptions
from aftersales.core.profiles.predictive import next_order_in_days
from aftersales.core.synthetic import generate_store
from aftersales.services.analytical.clv import score_customers
from aftersales.services.analytical.profiles import build_profiles

AS_OF = date(2024, 6, 30)
NOW = datetime(2024, 6, 30, tzinfo=UTC)
CLI = [sys.executable, "-c", "from aftersales.entrypoints.cli.app import main; main()"]


@pytest.fixture(scope="module")
def generated() -> dict[str, Any]:
    return generate_store(1500, seed=3, as_of=AS_OF).tables


def test_predictive_columns_are_the_clv_services_scores(generated: dict[str, Any]) -> None:
    with open_dataframes(generated) as src:
        build = build_profiles(src, NOW)
        options = replace(ClvOptions(), horizon=365 / 7, calibration_end=date(2024, 6, 29))
        scores = {r["customer_id"]: r for r in src.to_arrow(score_customers(src, options).table).to_pylist()}
    assert build.predictive and build.predictive_note is None and build.repeat_customers >= 100
    rows = build.table.to_pylist()
    scored = [r for r in rows if r["customer_id"] in scores]
    assert len(scored) == len(scores) == build.customers_with_orders > 1000
    for r in scored:
        s = scores[r["customer_id"]]
        assert r["p_alive"] == pytest.approx(s["p_alive"], rel=1e-12)
        assert r["predicted_purchases_365d"] == pytest.approx(s["expected_purchases"], rel=1e-12)
        assert r["predicted_clv_365d"] == pytest.approx(s["clv"], rel=1e-12)
        assert r["churn_risk"] == s["risk_tier"] and r["predictive_note"] is None
        days = next_order_in_days(s["expected_purchases"])
        assert r["expected_next_order_on"] == (None if days is None else date.fromordinal(AS_OF.toordinal() + days))


def test_cli_refresh_writes_every_profile(tmp_path: Path) -> None:
    from aftersales import bootstrap

    url = f"sqlite:///{tmp_path / 'store.db'}"
    bootstrap.demo(customers=400, seed=5, out=str(tmp_path / "files"), db=url, as_of=AS_OF)
    args = [*CLI, "refresh", "--db", url, "--as-of", "2024-06-30", "--format", "json"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["profiles_written"] == 400 and summary["now"].startswith("2024-06-30T00:00:00")
    assert summary["predictive"] == ("computed" if summary["repeat_customers"] >= 100 else "null")
    assert summary["scores"]["n_scored"] == summary["customers_with_orders"]
    bad = subprocess.run([*CLI, "refresh", "--db", url, "--as-of", "30/06/2024"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--as-of" in bad.stderr


def test_duckdb_connections_draw_no_progress_bar() -> None:
    # DuckDB drew its progress bar on stdout during a 100k-customer refresh: `--format json` became unparsable
    from aftersales.adapters.engines import fast_duckdb

    con = fast_duckdb.connect()
    assert con.raw_sql("SELECT current_setting('enable_progress_bar')").fetchall() == [(False,)]
