"""``/v1/journeys`` over real HTTP on SQLite and PostgreSQL: the published schema, create / apply /
read / list / pause / resume / archive, scopes, Idempotency-Key, located 422 problems that write
nothing, the 409 of a re-bucketing change and ``reassign``, and counts by status."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert

from aftersales.adapters.sql.journey_tables import journey_enrollments, journey_messages
from aftersales.core.journeys import journey_schema

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
PROBLEM = "application/problem+json"


def _doc(name: str, **changes: Any) -> dict[str, Any]:
    doc = {
        "name": name,
        "description": "thanks",
        "trigger": {"event": "order.delivered"},
        "steps": [
            {"id": "settle", "type": "wait", "duration": "2d"},
            {"id": "thanks", "type": "email", "template": "thank-you"},
        ],
    }
    return {**copy.deepcopy(doc), **changes}


def test_the_schema_is_published_to_readers(api) -> None:
    with api.client("read") as c:
        res = c.get("/v1/journeys/schema")
        assert res.status_code == 200 and res.json() == journey_schema()
    with api.client("ingest") as c:
        assert c.get("/v1/journeys/schema").status_code == 403


def test_create_read_apply_versions_and_reassign(api) -> None:
    with api.client("admin") as c:
        made = c.post("/v1/journeys", json=_doc("api-thanks"))
        assert made.status_code == 201, made.text
        body = made.json()
        j = body["journey"]
        assert (body["outcome"], body["previous_version"], body["reassigned"]) == ("created", None, False)
        assert body["notes"] == []
        assert (j["name"], j["version"], j["status"], j["trigger"]) == ("api-thanks", 1, "active", "order.delivered")
        assert j["journey_id"].startswith("jny_") and j["definition"]["holdout"] == 0.1
        assert j["enrollments"] == {} == j["messages"]
        by_id = c.get(f"/v1/journeys/{j['journey_id']}").json()
        assert by_id == c.get("/v1/journeys/api-thanks").json() and by_id["version"] == 1
        taken = c.post("/v1/journeys", json=_doc("api-thanks"))
        assert taken.status_code == 409 and taken.headers["content-type"] == PROBLEM

        same = c.put("/v1/journeys/api-thanks", json=_doc("api-thanks"))
        assert same.status_code == 200 and same.json()["outcome"] == "unchanged"
        changed = c.put(f"/v1/journeys/{j['journey_id']}", json=_doc("api-thanks", description="edited"))
        assert changed.status_code == 200 and (changed.json()["outcome"], changed.json()["journey"]["version"]) == (
            "changed",
            2,
        )
        refused = c.put("/v1/journeys/api-thanks", json=_doc("api-thanks", description="edited", holdout=0.25))
        assert refused.status_code == 409 and "holdout 0.1 -> 0.25" in refused.json()["detail"]
        assert "reassign=true" in refused.json()["detail"]
        redrawn = c.put(
            "/v1/journeys/api-thanks",
            params={"reassign": "true"},
            json=_doc("api-thanks", description="edited", holdout=0.25),
        )
        assert redrawn.status_code == 200 and redrawn.json()["reassigned"] is True
        assert redrawn.json()["journey"]["salt"] != j["salt"] and redrawn.json()["journey"]["version"] == 3

        created = c.put("/v1/journeys/api-new", params={"paused": "true"}, json=_doc("api-new"))
        assert created.status_code == 201 and created.json()["journey"]["status"] == "paused"
        assert created.json()["journey"]["activated_at"] is None
        renamed = c.put("/v1/journeys/api-thanks", json=_doc("api-other"))
        assert renamed.status_code == 422 and renamed.json()["errors"][0]["loc"] == ["body", "name"]


def test_an_invalid_document_is_a_located_422_that_writes_nothing(api) -> None:
    bad = _doc("api-bad")
    bad["steps"][0]["duration"] = "2 days"
    with api.client("admin") as c:
        for send in (lambda: c.post("/v1/journeys", json=bad), lambda: c.put("/v1/journeys/api-bad", json=bad)):
            res = send()
            assert res.status_code == 422 and res.headers["content-type"] == PROBLEM, res.text
            assert [e["loc"] for e in res.json()["errors"]] == [["body", "steps", 0, "duration"]]
        dangling = _doc("api-bad")
        dangling["steps"][1]["next"] = "nowhere"
        res = c.post("/v1/journeys", json=dangling)
        assert res.status_code == 422 and res.json()["errors"][0]["loc"] == ["body", "steps", 1, "next"]
        not_an_object = c.post("/v1/journeys", content=b"[1, 2]", headers={"content-type": "application/json"})
        assert not_an_object.status_code == 422
        assert c.get("/v1/journeys/api-bad").status_code == 404


def test_pause_resume_archive_counts_and_lists(api) -> None:
    with api.client("admin") as c:
        j = c.post("/v1/journeys", json=_doc("api-life")).json()["journey"]
        jid = j["journey_id"]
        with api.plane.engine.begin() as conn:
            conn.execute(insert(journey_enrollments), [
                dict(enrollment_id=f"{jid}-{i}", journey_id=jid, customer_id=f"c{i}", trigger_key=str(i), version=1,
                     arm="journey", status="active", step_id="settle", wake_at=T0, entered_at=T0)
                for i in range(3)
            ])  # fmt: skip
            conn.execute(insert(journey_messages), [
                dict(message_id=f"{jid}-m{i}", enrollment_id=f"{jid}-{i}", journey_id=jid, step_id="thanks",
                     customer_id=f"c{i}", channel="email", category="marketing", topic="api-life", params_json="{}",
                     status="queued" if i else "sent", not_before=T0, attempts=0, created_at=T0)
                for i in range(2)
            ])  # fmt: skip
        shown = c.get(f"/v1/journeys/{jid}").json()
        assert (shown["enrollments"], shown["messages"]) == ({"active": 3}, {"queued": 1, "sent": 1})
        assert c.post(f"/v1/journeys/{jid}/pause").json()["status"] == "paused"
        paused = c.get("/v1/journeys", params={"status": "paused", "limit": 1000}).json()["items"]
        assert "api-life" in [p["name"] for p in paused] and {p["status"] for p in paused} == {"paused"}
        assert all(p["enrollments"] is None is p["messages"] for p in paused)  # counted by GET of one only
        assert c.post("/v1/journeys/api-life/resume").json()["status"] == "active"
        gone = c.delete("/v1/journeys/api-life")
        assert gone.status_code == 200, gone.text
        assert (gone.json()["enrollments_ended"], gone.json()["messages_cancelled"]) == (3, 1)
        assert gone.json()["journey"]["enrollments"] == {"exited": 3}
        assert gone.json()["journey"]["messages"] == {"cancelled": 1, "sent": 1}
        assert c.post("/v1/journeys/api-life/resume").status_code == 409
        assert c.get("/v1/journeys/api-life").json()["status"] == "archived"
        assert c.get("/v1/journeys", params={"status": "nope"}).status_code == 422
        assert c.post("/v1/journeys/none-such/pause").status_code == 404


def test_scopes_and_idempotent_writes(api) -> None:
    with api.client("read") as c:
        assert c.post("/v1/journeys", json=_doc("api-read")).status_code == 403
        assert c.put("/v1/journeys/api-read", json=_doc("api-read")).status_code == 403
        assert c.get("/v1/journeys").status_code == 200
    with api.client(None) as c:
        assert c.get("/v1/journeys").status_code == 401
    key = uuid.uuid4().hex
    with api.client("admin", **{"Idempotency-Key": key}) as c:
        first = c.post("/v1/journeys", json=_doc("api-once"))
        second = c.post("/v1/journeys", json=_doc("api-once"))
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.content == first.content and second.headers.get("idempotent-replayed") == "true"
    with api.client("admin") as c:
        names = [j["name"] for j in c.get("/v1/journeys", params={"limit": 1000}).json()["items"]]
    assert names.count("api-once") == 1
