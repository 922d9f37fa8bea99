import json
import os
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


def cli_env(env, cwd, *args):
    code = "from aftersales.entrypoints.cli.app import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, env=env, cwd=cwd
    )


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


@pytest.fixture(scope="module")
def current_store(tmp_path_factory):
    """A SQLite store whose orders all fall in the current month (UTC, the default reporting zone)."""
    from datetime import UTC, datetime

    from aftersales import bootstrap

    folder = tmp_path_factory.mktemp("current")
    now = datetime.now(UTC).replace(microsecond=0)
    first = now.replace(day=1, hour=0, minute=0, second=0)
    rows = [("o1", "c1", first, "10.00"), ("o2", "c2", now, "30.00")]
    path = folder / "orders.csv"
    lines = ["order_id,customer_id,ordered_at,revenue", *(f"{o},{c},{t.isoformat()},{r}" for o, c, t, r in rows)]
    path.write_text("\n".join(lines) + "\n")
    db = folder / "aftersales.db"
    assert bootstrap.import_file("orders", str(path), db=str(db), create_missing_customers=True).inserted == 2
    return db, now.date()


def _check_to_date(r, today):
    assert r.returncode == 0, r.stderr
    rows = {x["metric"]: x for x in json.loads(r.stdout)}
    aov = rows["average_order_value"]
    assert (aov["period"], aov["value"], aov["orders"], aov["complete"]) == (
        today.replace(day=1).isoformat(),
        20.0,  # (10 + 30) / 2
        2,
        False,
    )
    assert f"to date (through {today.isoformat()})" in r.stderr


def test_the_store_comes_from_db_env_or_the_working_directory(current_store):
    db, today = current_store
    _check_to_date(cli("metrics", "--db", str(db), "--format", "json"), today)
    env = {**os.environ, "AFTERSALES_DATABASE_URL": f"sqlite:///{db}"}
    _check_to_date(cli_env(env, None, "metrics", "--format", "json"), today)
    env.pop("AFTERSALES_DATABASE_URL")
    _check_to_date(cli_env(env, db.parent, "metrics", "--format", "json"), today)  # ./aftersales.db


def test_the_table_title_names_the_period(current_store):
    db, today = current_store
    r = cli("metrics", "average_order_value", "--db", str(db))
    assert r.returncode == 0, r.stderr
    assert "to date" in r.stdout and today.replace(day=1).isoformat() in r.stdout


def test_a_bad_date_names_the_option(store):
    r = cli("metrics", "--source", str(store), "--to", "yesterday")
    assert r.returncode == 2
    assert "--to" in r.stderr
