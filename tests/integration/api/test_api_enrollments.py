"""``/v1/journeys/{id}/enrollments`` over real HTTP on SQLite and PostgreSQL (pages, a status filter,
scopes, removal that cancels queued messages, 404 and 409 problems), and the journey worker that
``aftersales serve`` runs beside the API: it advances a segment start and sends to the .eml outbox."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select

from aftersales import bootstrap
from aftersales.adapters.sql.journey_tables import journey_messages
from aftersales.adapters.sql.segment_tables import segment_memberships, segments
from aftersales.adapters.sql.tables import TABLES
from aftersales.config import Settings
from aftersales.entrypoints.api import ApiOptions, create_app
from aftersales.services.operational.journeys import definitions
from aftersales.services.operational.journeys.enroll import enroll_segment

PROBLEM = "application/problem+json"


def _people(plane: bootstrap.ServicePlane, prefix: str, n: int) -> list[str]:
    ids = [f"{prefix}{i}" for i in range(n)]
    now = datetime.now(UTC)
    with plane.engine.begin() as conn:
        conn.execute(
            insert(TABLES["customers"]),
            [{"customer_id": c, "email": f"{c}@example.com", "email_consent": True, "timezone": None, "locale": None}
             for c in ids],
        )  # fmt: skip
        conn.execute(
            insert(segments).values(
                segment_id=f"seg_{prefix}", name=f"seg-{prefix}", definition_json="{}", definition_text="x",
                created_at=now, updated_at=now,
            )
        )  # fmt: skip
        conn.execute(
            insert(segment_memberships),
            [{"segment_id": f"seg_{prefix}", "customer_id": c, "entered_at": now, "exited_at": None} for c in ids],
        )
    return ids


def _journey(name: str, audience: str) -> dict[str, object]:
    return {
        "name": name,
        "trigger": {"event": "never.happens"},
        "audience": audience,
        "holdout": 0,
        "steps": [
            {"id": "thanks", "type": "email", "template": "thank-you", "category": "transactional"},
            {"id": "later", "type": "wait", "duration": "3d"},
            {"id": "again", "type": "email", "template": "review-request", "category": "transactional"},
        ],
    }


def test_enrollments_pages_and_removal(api) -> None:
    _people(api.plane, "e", 5)
    definitions.apply(api.plane.uow, _journey("api-enrolled", "seg-e"))
    enroll_segment(api.plane.uow, "api-enrolled", datetime.now(UTC))
    with api.client("read") as c:
        first = c.get("/v1/journeys/api-enrolled/enrollments", params={"limit": 3})
        assert first.status_code == 200, first.text
        page = first.json()
        assert len(page["items"]) == 3 and page["next_cursor"]
        rest = c.get("/v1/journeys/api-enrolled/enrollments", params={"cursor": page["next_cursor"]}).json()
        items = page["items"] + rest["items"]
        assert len(items) == 5 and rest["next_cursor"] is None
        assert {(e["status"], e["arm"], e["step_id"]) for e in items} == {("active", "journey", "thanks")}
        assert items[0]["trigger"] == {"segment": "seg-e", "start": "start"} and items[0]["variants"] == {}
        assert c.get("/v1/journeys/api-enrolled/enrollments", params={"status": "exited"}).json()["items"] == []
        assert c.get("/v1/journeys/api-enrolled/enrollments", params={"status": "bogus"}).status_code == 422
        missing = c.get("/v1/journeys/nope/enrollments")
        assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
        assert c.delete(f"/v1/journeys/api-enrolled/enrollments/{items[0]['enrollment_id']}").status_code == 403
    with api.client("admin") as c:
        gone = c.delete(f"/v1/journeys/api-enrolled/enrollments/{items[0]['enrollment_id']}")
        assert gone.status_code == 200, gone.text
        assert (gone.json()["status"], gone.json()["exit_reason"]) == ("exited", "removed")
        again = c.delete(f"/v1/journeys/api-enrolled/enrollments/{items[0]['enrollment_id']}")
        assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
        assert c.delete("/v1/journeys/api-enrolled/enrollments/enr_nothing").status_code == 404
        exited = c.get("/v1/journeys/api-enrolled/enrollments", params={"status": "exited"}).json()["items"]
        assert [e["enrollment_id"] for e in exited] == [items[0]["enrollment_id"]]


def test_serve_runs_a_journey_worker_that_advances_and_sends(api, live_server, store_url: str, tmp_path: Path) -> None:
    ids = _people(api.plane, "w", 3)
    definitions.apply(api.plane.uow, _journey("api-worked", "seg-w"))
    settings = Settings(database_url=store_url, outbox_dir=str(tmp_path / "outbox"))
    plane = bootstrap.service_plane(store_url)
    app = create_app(settings, plane=plane, options=ApiOptions(journey_worker=True))
    m = journey_messages
    journey_id = definitions.get(api.plane.uow, "api-worked").journey_id
    q = select(m.c.customer_id, m.c.status, m.c.rfc_message_id, m.c.detail).where(m.c.journey_id == journey_id)
    rows: list = []
    try:
        with live_server(app):
            enroll_segment(api.plane.uow, "api-worked", datetime.now(UTC))
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:  # the worker polls every second
                with plane.engine.connect() as conn:
                    rows = list(conn.execute(q))
                if len(rows) == 3 and all(r.status == "sent" for r in rows):
                    break
                time.sleep(0.2)
    finally:
        plane.close()
    assert sorted((r.customer_id, r.status) for r in rows) == [(c, "sent") for c in ids], rows
    files = {p.name for p in (tmp_path / "outbox").glob("*.eml")}
    assert {f"{r.rfc_message_id.strip('<>')}.eml" for r in rows} <= files
