import json
import subprocess
import sys
from datetime import date

import pyarrow.parquet as pq
import pytest

from aftersales.core.synthetic import generate_store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli-store")
    s = generate_store(120, seed=3, as_of=date(2024, 1, 1))
    for name in ("orders", "customers"):
        pq.write_table(s.tables[name], out / f"{name}.parquet")
    return out


def cli(*args):
    code = "from aftersales.entrypoints.cli.app import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)


def test_json_records_carry_the_formula_parts(store):
    r = cli(
        "metrics",
        "retention_rate",
        "--source",
        str(store),
        "--period",
        "quarter",
        "--to",
        "2024-01-01",
        "--format",
        "json",
    )
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [x["period"] for x in rows] == ["2023-01-01", "2023-04-01", "2023-07-01", "2023-10-01"]
    for x in rows:
        assert {"metric", "period", "segment", "value", "S", "E", "N"} <= x.keys()
        assert x["value"] == pytest.approx((x["E"] - x["N"]) * 100 / x["S"])


def test_missing_table_is_one_line_and_others_still_run(store):
    r = cli("metrics", "nps", "average_order_value", "--source", str(store), "--format", "csv")
    assert r.returncode == 3
    assert "error: nps: the source has no table 'survey_responses'" in r.stderr
    assert "average_order_value" in r.stdout


def test_scorecard_without_names(store):
    r = cli("metrics", "--source", str(store), "--format", "json")
    assert r.returncode == 0, r.stderr
    names = {x["metric"] for x in json.loads(r.stdout)}
    assert {"retention_rate", "churn_rate", "historical_clv", "average_order_value"} <= names
