"""/v1/messages, /v1/messages/progress and /v1/suppressions over HTTP: scopes, filters, pages, and no
e-mail address in any response."""

from __future__ import annotations

from typing import Any


def test_messages_list_and_progress(site: Any, delivery: Any, smtp_sink: Any) -> None:
    seed = delivery.seed
    for c in ("c1", "c2"):
        seed.customer(c)
    ids = sorted(seed.message(c, s).message_id for c in ("c1", "c2") for s in ("a", "b"))
    seed.set_customer("c2", email_consent=False)
    delivery.run()
    with site.client() as anonymous:
        assert anonymous.get("/v1/messages").status_code == 401
    with site.client("read") as http:
        first = http.get("/v1/messages", params={"limit": 3})
        rest = http.get("/v1/messages", params={"limit": 3, "cursor": first.json()["next_cursor"]})
        assert [m["message_id"] for m in first.json()["items"] + rest.json()["items"]] == ids
        skipped = http.get("/v1/messages", params={"journey": "test", "status": "skipped"}).json()["items"]
        assert {m["customer_id"] for m in skipped} == {"c2"} and len(skipped) == 2
        assert http.get("/v1/messages", params={"customer": "c1", "status": "sent"}).json()["items"][0]["attempts"] == 1
        assert http.get("/v1/messages", params={"status": "bogus"}).status_code == 422
        assert http.get("/v1/messages", params={"journey": "nope"}).status_code == 404
        progress = http.get("/v1/messages/progress", params={"journey": "jny_test"}).json()
        overall = http.get("/v1/messages/progress").json()
        for body in (first.text, rest.text, str(progress)):
            assert "@example.com" not in body
    assert (progress["total"], progress["sent"], progress["skipped"], progress["remaining"]) == (4, 2, 2, 0)
    assert progress["estimated_finish"] is None and overall["total"] == 4


def test_suppressions_admin(site: Any, seed: Any) -> None:
    seed.customer("c1")
    body = {"customer_id": "c1", "topic": "tips"}
    with site.client("read") as reader:
        assert reader.post("/v1/suppressions", json=body).status_code == 403
        assert reader.get("/v1/suppressions").json() == {"items": [], "next_cursor": None}
    with site.client("admin") as admin:
        made = admin.post("/v1/suppressions", json=body)
        again = admin.post("/v1/suppressions", json=body)
        assert (made.status_code, again.status_code) == (201, 200)
        assert made.json()["reason"] == "manual" and again.json() == made.json()
        bounce = admin.post("/v1/suppressions", json={"customer_id": "c1", "reason": "hard_bounce"})
        assert bounce.status_code == 201 and bounce.json()["topic"] == "!hard_bounce"
        assert admin.post("/v1/suppressions", json={"customer_id": "ghost"}).status_code == 404
        assert admin.post("/v1/suppressions", json={"customer_id": "c1", "reason": "spite"}).status_code == 422
        listed = admin.get("/v1/suppressions", params={"customer": "c1", "limit": 1}).json()
        more = admin.get("/v1/suppressions", params={"cursor": listed["next_cursor"]}).json()
        assert [s["topic"] for s in listed["items"] + more["items"]] == ["!hard_bounce", "tips"]
        gone = admin.delete("/v1/suppressions", params={"customer": "c1", "topic": "tips"})
        assert gone.status_code == 200 and gone.json()["topic"] == "tips"
        assert admin.delete("/v1/suppressions", params={"customer": "c1", "topic": "tips"}).status_code == 404
