"""A real process killed with SIGKILL in the middle of an import, then run again."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

ROWS, BATCH = 200_000, 2_000


def _count(db: str) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM orders").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


@pytest.mark.slow
def test_sigkill_halfway_then_rerun_completes(tmp_path):
    path = tmp_path / "orders.csv"
    with path.open("w") as f:
        f.write("order_id,customer_id,ordered_at,revenue\n")
        f.writelines(f"o{i},c{i % 1000},2024-01-01T00:00:00Z,{i % 50}.25\n" for i in range(ROWS))
    db = str(tmp_path / "a.db")
    cmd = [
        sys.executable,
        "-m",
        "aftersales",
        "import",
        "orders",
        str(path),
        "--db",
        db,
        "--create-missing-customers",
        "--batch-size",
        str(BATCH),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _count(db) < 3 * BATCH and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = _count(db)
    assert proc.returncode == -signal.SIGKILL
    assert 0 < partial < ROWS, "the import should have been killed halfway"
    assert partial % BATCH == 0  # whole batches only: each batch is one transaction
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert _count(db) == ROWS
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(DISTINCT order_id) FROM orders").fetchone()[0] == ROWS
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
