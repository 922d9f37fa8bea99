"""``aftersales messages`` and ``aftersales suppressions`` as a user runs them, on a SQLite store with
one journey's outbox: progress, the message list (no addresses), the webhook secret, and the
suppression list (add, list, remove; bad input exits 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.journey_tables import journey_enrollments, journeys
from aftersales.adapters.sql.migrate import upgrade
from aftersales.adapters.sql.repositories import unit_of_work_factory
from aftersales.adapters.sql.tables import TABLES
from aftersales.services.ports_messages import MessageRecord

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    return subprocess.run(
        [sys.executable, "-m", "aftersales", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def store(tmp_path: Path) -> Path:
    engine = make_engine(f"sqlite:///{tmp_path / 'aftersales.db'}")
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(TABLES["customers"]), [{"customer_id": c, "email": f"{c}@example.com"} for c in ("c1", "c2")]
        )
        conn.execute(
            insert(journeys).values(
                journey_id="jny_1", name="thanks", version=1, definition_json="{}", status="active", salt="s",
                created_at=T0, updated_at=T0,
            )
        )  # fmt: skip
        for c in ("c1", "c2"):
            conn.execute(
                insert(journey_enrollments).values(
                    enrollment_id=f"enr_{c}", journey_id="jny_1", customer_id=c, trigger_key=c, version=1,
                    arm="journey", status="active", entered_at=T0,
                )
            )  # fmt: skip
    with unit_of_work_factory(engine)() as u:
        u.messages.add(
            [
                MessageRecord(
                    f"msg_{c}", f"enr_{c}", "jny_1", "hello", c, "email", "marketing", "tips", None,
                    {"template": "thank-you"}, "queued", T0, 0, T0,
                )
                for c in ("c1", "c2")
            ]
        )  # fmt: skip
    engine.dispose()
    return tmp_path


def test_messages_progress_list_and_webhook_secret(store: Path) -> None:
    progress = run("messages", "progress", "--journey", "thanks", "--format", "json", cwd=store)
    assert progress.returncode == 0, progress.stderr
    p = json.loads(progress.stdout)
    assert (p["total"], p["remaining"], p["sent"]) == (2, 2, 0)
    listed = run("messages", "list", "--status", "queued", "--format", "json", cwd=store)
    assert listed.returncode == 0, listed.stderr
    assert [m["message_id"] for m in json.loads(listed.stdout)] == ["msg_c1", "msg_c2"]
    assert "@example.com" not in listed.stdout
    table = run("messages", "list", "--customer", "c2", cwd=store)
    assert table.returncode == 0 and "msg_c2" in table.stdout and "msg_c1" not in table.stdout
    first, second = (run("messages", "webhook-secret", cwd=store) for _ in range(2))
    assert first.stdout.startswith("whsec_") and first.stdout == second.stdout
    assert run("messages", "progress", "--journey", "nope", cwd=store).returncode == 2


def test_suppressions_add_list_remove(store: Path) -> None:
    added = run("suppressions", "add", "c1", "--topic", "tips", cwd=store)
    assert added.returncode == 0 and "suppressed on email topic tips (manual)" in added.stdout
    assert "already suppressed" in run("suppressions", "add", "c1", "--topic", "tips", cwd=store).stdout
    listed = json.loads(run("suppressions", "list", "--format", "json", cwd=store).stdout)
    assert [(s["customer_id"], s["topic"], s["reason"]) for s in listed] == [("c1", "tips", "manual")]
    bad = run("suppressions", "add", "c1", "--reason", "spite", cwd=store)
    assert bad.returncode == 2 and "reason" in bad.stderr
    assert run("suppressions", "add", "ghost", cwd=store).returncode == 2
    assert run("suppressions", "remove", "c1", "--topic", "tips", cwd=store).returncode == 0
    assert run("suppressions", "remove", "c1", "--topic", "tips", cwd=store).returncode == 2
