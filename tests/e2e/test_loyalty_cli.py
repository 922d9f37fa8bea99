"""``aftersales loyalty`` as a user runs it on a SQLite store: apply a program file (bad files exit 2
naming each path), process orders as of a time, read balances and history, award and redeem with
keys (a second run writes nothing), liability. Orders are written by the product's resource writer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.migrate import upgrade
from aftersales.adapters.sql.repositories import unit_of_work_factory
from aftersales.services.operational import resources

PROGRAM = """\
name: shop-rewards
earn:
  points_per_unit: 1
  category_multipliers: {bikes: 2}
lock: {return_window_days: 30}
expiry: {active_days: 365, warning_days: 30}
value: {cost_per_point: 0.01}
tiers:
  window_days: 365
  levels:
    - {name: member, min_points: 0}
    - {name: silver, min_points: 1000, earn_multiplier: 1.5}
rewards:
  - {id: ten_off, name: "10 off", points: 100, kind: amount_off, value: 10}
"""
NOW = "2024-02-15T00:00:00+00:00"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    return subprocess.run(
        [sys.executable, "-m", "aftersales", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A SQLite store with one customer and two orders (one with a bike line), and the program file."""
    engine = make_engine(f"sqlite:///{tmp_path / 'aftersales.db'}")
    upgrade(engine)
    uow = unit_of_work_factory(engine)
    resources.create(uow, "customers", {"customer_id": "c1"})
    resources.create(uow, "products", {"product_id": "bike", "category": "bikes"})
    line = {"line_number": 1, "product_id": "bike", "quantity": 1, "unit_price": 300}
    first, second = datetime(2024, 1, 2, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)
    resources.create(uow, "orders", {"order_id": "o1", "customer_id": "c1", "ordered_at": first, "revenue": 300,
                                     "lines": [line]})  # fmt: skip
    resources.create(uow, "orders", {"order_id": "o2", "customer_id": "c1", "ordered_at": second, "revenue": 50})
    engine.dispose()
    (tmp_path / "program.yaml").write_text(PROGRAM)
    return tmp_path


def test_apply_process_balance_redeem_award_history_liability(store: Path) -> None:
    made = run("loyalty", "apply", "program.yaml", cwd=store)
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == "loyalty program 'shop-rewards' created (version 1)"
    assert run("loyalty", "apply", "program.yaml", cwd=store).stdout.strip().endswith("unchanged (version 1)")

    done = run("loyalty", "process", "--now", NOW, cwd=store)
    assert done.returncode == 0, done.stderr
    assert "processed 1 members as of 2024-02-15T00:00:00+00:00: 5 rows (2 earn, 2 lock, 1 release)" in done.stdout
    assert "0 rows (nothing new)" in run("loyalty", "process", "--now", NOW, cwd=store).stdout

    bal = json.loads(run("loyalty", "balance", "c1", "--now", NOW, "--format", "json", cwd=store).stdout)
    assert (bal["balance"], bal["available"], bal["locked"]) == (650, 600, 50)  # o1: 300 x 2 released on 2024-02-01
    assert bal["tier"]["name"] == "member" and bal["tier"]["points_to_next"] == 350
    table = run("loyalty", "balance", "c1", "--now", NOW, cwd=store).stdout
    assert table.startswith("c1: 650 points, 600 available, 50 locked")

    first = run("loyalty", "redeem", "c1", "ten_off", "--key", "r1", "--quantity", "2", "--now", NOW, cwd=store)
    assert first.returncode == 0, first.stderr
    assert "redeemed 2 x '10 off' for 200 points; 400 available" in first.stdout
    again = run("loyalty", "redeem", "c1", "ten_off", "--key", "r1", "--quantity", "2", "--now", NOW, cwd=store)
    assert "(already redeemed with this key: nothing written); 400 available" in again.stdout
    short = run("loyalty", "redeem", "c1", "ten_off", "--key", "r2", "--quantity", "5", "--now", NOW, cwd=store)
    assert short.returncode == 2 and short.stderr.startswith("error: not enough points: 400 available, 500 needed")

    gift = run("loyalty", "award", "c1", "25", "--key", "g1", "--reason", "sorry", "--now", NOW, cwd=store)
    assert gift.returncode == 0 and gift.stdout.strip() == "c1: +25 points; 425 available", gift.stderr
    fix = run("loyalty", "award", "c1", "--key", "g2", "--now", NOW, "--", "-5", cwd=store)
    assert fix.returncode == 0 and fix.stdout.strip() == "c1: -5 points; 420 available", fix.stderr

    rows = json.loads(run("loyalty", "history", "c1", "--format", "json", cwd=store).stdout)
    assert [r["kind"] for r in rows] == ["adjust", "adjust", "redeem", "release", "lock", "earn", "lock", "earn"]
    assert rows[1]["detail"] == {"reason": "sorry"}

    report = json.loads(run("loyalty", "liability", "--now", NOW, "--format", "json", cwd=store).stdout)
    assert (report["points_held"], report["points_locked"], report["points_redeemed"]) == (470, 50, 200)
    assert report["liability"] == 4.7 and report["tiers"] == {"member": 1, "silver": 0}


def test_a_bad_program_file_exits_2_naming_each_path(store: Path) -> None:
    (store / "bad.yaml").write_text(
        "tiers:\n  levels:\n    - {name: a, min_points: 5}\nrewards: [{id: x, kind: cash}]\n"
    )
    res = run("loyalty", "apply", "bad.yaml", cwd=store)
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.splitlines() == [
        "bad.yaml: tiers/levels/0/min_points: the first level must start at 0 points (every member is in it)",
        "bad.yaml: rewards/0/points: must be between 1 and 1000000000000",
        "bad.yaml: rewards/0/kind: 'cash' is not one of: amount_off, percent_off, free_product",
    ]
    assert run("loyalty", "balance", "c1", cwd=store).stderr.startswith("error: no loyalty program yet")
    missing = run("loyalty", "apply", "nope.yaml", cwd=store)
    assert missing.returncode == 2 and "nope.yaml: cannot read the file" in missing.stderr
