"""``aftersales journeys start|simulate|enrollments|remove`` and ``aftersales worker --once`` as a user
runs them on a SQLite store: a segment start, a preview that writes nothing, one worker round that
queues the first e-mails and sends them to the .eml outbox, the enrollment list, and a removal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.journey_tables import journey_messages
from aftersales.adapters.sql.segment_tables import segment_memberships, segments
from aftersales.adapters.sql.tables import TABLES

JOURNEY = """\
name: welcome
trigger: {event: never.happens}
audience: everyone
holdout: 0
steps:
  - {id: thanks, type: email, template: thank-you, category: transactional}
  - {id: later, type: wait, duration: 3d}
  - {id: review, type: email, template: review-request, category: transactional}
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    env["AFTERSALES_OUTBOX_DIR"] = str(cwd / "outbox")
    return subprocess.run(
        [sys.executable, "-m", "aftersales", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180
    )


def _messages(db: Path) -> int:
    engine = make_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(journey_messages)).scalar_one()
    finally:
        engine.dispose()


def test_start_simulate_worker_enrollments_remove(tmp_path: Path) -> None:
    (tmp_path / "welcome.yaml").write_text(JOURNEY)
    applied = run("journeys", "apply", "welcome.yaml", cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    db = tmp_path / "aftersales.db"
    engine = make_engine(f"sqlite:///{db}")
    now = datetime.now(UTC)
    ids = [f"c{i}" for i in range(5)]
    with engine.begin() as conn:
        conn.execute(
            insert(TABLES["customers"]),
            [{"customer_id": c, "email": f"{c}@example.com", "email_consent": True, "timezone": None, "locale": None}
             for c in ids],
        )  # fmt: skip
        conn.execute(
            insert(segments).values(
                segment_id="seg_all", name="everyone", definition_json="{}", definition_text="x",
                created_at=now, updated_at=now,
            )
        )  # fmt: skip
        conn.execute(
            insert(segment_memberships),
            [{"segment_id": "seg_all", "customer_id": c, "entered_at": now, "exited_at": None} for c in ids],
        )
    engine.dispose()

    started = run("journeys", "start", "welcome", cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    assert "5 members of the segment; 5 entered, 0 held out" in started.stdout
    again = run("journeys", "start", "welcome", cwd=tmp_path)
    assert "0 entered, 0 held out, 5 left out" in again.stdout

    sim = run("journeys", "simulate", "welcome", "--days", "10", "--format", "json", cwd=tmp_path)
    assert sim.returncode == 0, sim.stderr
    preview = json.loads(sim.stdout)
    assert (preview["continued"], preview["effects"], preview["per_step"]) == (5, 10, {"thanks": 5, "review": 5})
    assert _messages(db) == 0  # the preview wrote nothing

    once = run("worker", "--once", cwd=tmp_path)
    assert once.returncode == 0, once.stderr
    assert "5 enrollments advanced" in once.stdout and "5 messages queued" in once.stdout
    assert "sent 5" in once.stdout
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 5
    assert _messages(db) == 5

    listed = run("journeys", "enrollments", "welcome", "--format", "json", cwd=tmp_path)
    rows = json.loads(listed.stdout)
    assert {(r["status"], r["step_id"]) for r in rows} == {("active", "later")} and len(rows) == 5
    removed = run("journeys", "remove", "welcome", rows[0]["enrollment_id"], cwd=tmp_path)
    assert removed.returncode == 0 and "removed from journey 'welcome'" in removed.stdout
    twice = run("journeys", "remove", "welcome", rows[0]["enrollment_id"], cwd=tmp_path)
    assert twice.returncode != 0 and "not active" in twice.stderr
