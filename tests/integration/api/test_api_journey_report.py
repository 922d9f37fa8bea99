"""``GET /v1/journeys/{ref}/report`` over HTTP and ``aftersales journeys report --format json`` on the same
store give the same figures, and the arms' counts are the store's enrollments (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from aftersales.adapters.sql.journey_tables import journey_enrollments
from aftersales.adapters.sql.segment_tables import segment_memberships, segments
from aftersales.adapters.sql.tables import TABLES
from aftersales.bootstrap.journeys import start_journey
from aftersales.services.operational.journeys import definitions

JOURNEY = {
    "name": "report-check",
    "trigger": {"event": "never.happens"},
    "audience": "report-everyone",
    "holdout": 0.5,
    "goal": {"event": "order.placed", "within": "7d"},
    "steps": [{"id": "thanks", "type": "email", "template": "thank-you", "category": "transactional"}],
}
N = 120


def _seed(api) -> set[str]:
    """Customers, a segment holding them all, the journey started on it, and orders after entry for
    every third customer; returns who ordered."""
    now = datetime.now(UTC)
    ids = [f"rep{i:03d}" for i in range(N)]
    with api.plane.engine.begin() as conn:
        conn.execute(insert(TABLES["customers"]), [{"customer_id": c, "email_consent": True} for c in ids])
        conn.execute(
            insert(segments).values(
                segment_id="seg_report_everyone", name="report-everyone", definition_json="{}", definition_text="x",
                created_at=now, updated_at=now,
            )
        )  # fmt: skip
        conn.execute(
            insert(segment_memberships),
            [
                {"segment_id": "seg_report_everyone", "customer_id": c, "entered_at": now, "exited_at": None}
                for c in ids
            ],
        )
    definitions.apply(api.plane.uow, JOURNEY)
    start_journey("report-check", db=api.plane.url)
    buyers = set(ids[::3])
    later = datetime.now(UTC) + timedelta(hours=2)
    with api.plane.engine.begin() as conn:
        conn.execute(
            insert(TABLES["orders"]),
            [{"order_id": f"rep-o-{c}", "customer_id": c, "ordered_at": later, "revenue": 10, "status": "placed"}
             for c in sorted(buyers)],
        )  # fmt: skip
    return buyers


def test_the_report_over_http_equals_the_cli_and_the_store(api) -> None:
    buyers = _seed(api)
    as_of = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    with api.client("read") as c:
        r = c.get("/v1/journeys/report-check/report", params={"as_of": as_of, "include_immature": True})
    assert r.status_code == 200, r.text
    body = r.json()
    with api.plane.engine.connect() as conn:
        by_arm = dict(
            conn.execute(select(journey_enrollments.c.arm, func.count()).group_by(journey_enrollments.c.arm)).all()
        )
        arm_of = dict(conn.execute(select(journey_enrollments.c.customer_id, journey_enrollments.c.arm)).all())
    arms = {a["arm"]: a for a in body["arms"]}
    assert {k: v["enrolled"] for k, v in arms.items()} == by_arm and sum(by_arm.values()) == N
    for arm, figures in arms.items():
        bought = sum(1 for c in buyers if arm_of[c] == arm)
        assert figures["converted"] == bought
        assert figures["revenue_per_enrolled"] == 10 * bought / by_arm[arm]
    assert {c["metric"] for c in body["comparisons"]} == {"converted", "revenue", "repeat_purchase", "churned"}
    assert body["goal"] == "order.placed" and body["window_days"] == 7 and body["holdout_share"] == 0.5

    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    cli = subprocess.run(
        [sys.executable, "-m", "aftersales", "journeys", "report", "report-check", "--db", api.plane.url,
         "--as-of", as_of, "--include-immature", "--format", "json"],
        capture_output=True, text=True, timeout=180, env=env,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    printed = json.loads(cli.stdout)
    # the CLI prints money to the cent
    assert [{k: pytest.approx(v, abs=0.005) for k, v in a.items()} for a in printed["arms"]] == body["arms"]
    assert [(c["metric"], c["lift"]) for c in printed["comparisons"]] == [
        (c["metric"], c["lift"]) for c in body["comparisons"]
    ]


def test_an_unknown_journey_is_a_404(api) -> None:
    with api.client("read") as c:
        r = c.get("/v1/journeys/no-such-journey/report")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
