"""``aftersales segments`` as a user runs it, on a SQLite store holding hand-made profiles: create,
list, show, preview, members, sizes, delete; bad definitions exit 2 naming the position and the
valid fields, and write nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import func, insert, select

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.migrate import upgrade
from aftersales.adapters.sql.repositories import unit_of_work_factory
from aftersales.adapters.sql.repositories.profiles import profile_arrow_schema
from aftersales.adapters.sql.segment_tables import segments as segments_table
from aftersales.adapters.sql.tables import TABLES

AT = datetime(2024, 6, 30, 12, tzinfo=UTC)
PROFILES = [
    {"customer_id": "c1", "orders": 5, "churn_risk": "high", "email_consent": True},
    {"customer_id": "c2", "orders": 3, "churn_risk": "low", "email_consent": True},
    {"customer_id": "c3", "orders": 1, "churn_risk": "high", "email_consent": False},
    {"customer_id": "c4", "orders": 2, "churn_risk": "high", "email_consent": True},
]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    return subprocess.run(
        [sys.executable, "-m", "aftersales", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A SQLite store with four customers' profiles (the way `aftersales refresh` leaves it)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'aftersales.db'}")
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(TABLES["customers"]), [{"customer_id": p["customer_id"]} for p in PROFILES])
    with unit_of_work_factory(engine)() as u:
        u.profiles.replace_all(pa.Table.from_pylist(PROFILES, schema=profile_arrow_schema()), AT)
    engine.dispose()
    return tmp_path


def _segments_stored(cwd: Path) -> int:
    engine = make_engine(f"sqlite:///{cwd / 'aftersales.db'}")
    with engine.connect() as conn:
        n = int(conn.execute(select(func.count()).select_from(segments_table)).scalar_one())
    engine.dispose()
    return n


def _refresh(cwd: Path) -> None:
    from aftersales import bootstrap
    from aftersales.services.operational import segments

    url = f"sqlite:///{cwd / 'aftersales.db'}"
    with bootstrap.open_source(url) as src:
        segments.refresh_memberships(bootstrap.unit_of_work(url), src, AT)


def test_create_list_show_members_sizes_delete(store: Path) -> None:
    where = "churn_risk = 'high' and email_consent and orders >= 2"
    made = run("segments", "create", "at risk", "--where", where, "--description", "call them", cwd=store)
    assert made.returncode == 0, made.stderr
    assert "segment 'at risk' created (seg_" in made.stdout
    _refresh(store)
    listed = json.loads(run("segments", "list", "--format", "json", cwd=store).stdout)
    assert [(s["name"], s["size"], s["where"]) for s in listed] == [("at risk", 2, where)]
    shown = json.loads(run("segments", "show", "at risk", "--format", "json", cwd=store).stdout)
    assert shown["description"] == "call them" and shown["definition"]["all"][0]["field"] == "churn_risk"
    members = json.loads(run("segments", "members", "at risk", "--format", "json", cwd=store).stdout)
    assert [m["customer_id"] for m in members] == ["c1", "c4"]
    sizes = run("segments", "sizes", "at risk", "--format", "csv", cwd=store)
    assert sizes.stdout.splitlines() == ["refreshed_at,size,entered,exited", f"{AT.isoformat()},2,2,0"]
    gone = run("segments", "delete", "at risk", cwd=store)
    assert gone.returncode == 0 and "deleted" in gone.stdout
    missing = run("segments", "show", "at risk", cwd=store)
    assert missing.returncode == 2 and missing.stderr.startswith("error: no segment 'at risk'")


def test_preview_counts_and_samples_without_saving(store: Path) -> None:
    res = run("segments", "preview", "--where", "orders >= 2", "--limit", "2", cwd=store)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0] == "3 of 4 customers: orders >= 2"
    assert "c1" in res.stdout and "c2" in res.stdout and "c4" not in res.stdout
    as_json = json.loads(run("segments", "preview", "--where", "orders >= 2", "--format", "json", cwd=store).stdout)
    assert as_json["count"] == 3 and [r["customer_id"] for r in as_json["sample"]] == ["c1", "c2", "c4"]
    assert _segments_stored(store) == 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["create", "x", "--where", "clv_teir = 'above_average'"], "line 1, column 1: unknown field 'clv_teir'"),
        (["create", "x", "--where", "orders >= 2 and"], "line 1, column 16: expected a condition"),
        (["preview", "--where", "orders in (1,"], "line 1, column 14"),
    ],
)
def test_a_bad_definition_exits_2_with_the_position_and_the_valid_fields(store: Path, args, expected) -> None:
    res = run("segments", *args, cwd=store)
    assert res.returncode == 2
    assert res.stderr.startswith(f"error: --where: {expected}")
    assert res.stderr.splitlines()[-1].startswith("valid fields: customer_id, first_order_at")
    assert "^" in res.stderr  # the caret under the problem
    assert res.stdout == "" and _segments_stored(store) == 0


def test_a_taken_name_is_exit_2(store: Path) -> None:
    assert run("segments", "create", "a", "--where", "orders > 1", cwd=store).returncode == 0
    again = run("segments", "create", "a", "--where", "orders > 2", cwd=store)
    assert again.returncode == 2 and "exists already" in again.stderr and _segments_stored(store) == 1
