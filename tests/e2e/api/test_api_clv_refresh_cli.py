"""``aftersales clv refresh`` on a demo store (subprocess): scores stored once per customer, a second run
updates them, and the JSON summary agrees with the table's contents."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text

from aftersales import bootstrap

CLI = [sys.executable, "-c", "from aftersales.entrypoints.cli.app import main; main()"]


def test_clv_refresh_stores_every_scored_customer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    bootstrap.demo(customers=600, seed=5, out=str(tmp_path / "files"), db=url, as_of=date(2024, 6, 30))
    args = [*CLI, "clv", "refresh", "--db", url, "--horizon", "26", "--margin", "0.3", "--format", "json"]
    first = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    with create_engine(url).connect() as conn:
        n, tiers = conn.execute(text("SELECT count(*), count(DISTINCT risk_tier) FROM clv_scores")).one()
        by_tier = dict(conn.execute(text("SELECT risk_tier, count(*) FROM clv_scores GROUP BY risk_tier")).all())
    assert n == summary["n_scored"] == summary["n_new"] > 500 and tiers == 3
    assert by_tier == summary["risk_tiers"] and summary["horizon"] == 26
    second = subprocess.run([*CLI, "clv", "refresh", "--db", url], capture_output=True, text=True, timeout=120)
    assert second.returncode == 0 and "n_updated" in second.stdout and "CLV scores refreshed" in second.stdout
