"""``/v1/loyalty`` over real HTTP on SQLite and PostgreSQL: the program (apply, versions, located
422s, scopes), a member's balance, lots, tier and history, redemptions idempotent by key or
Idempotency-Key, 409 when points do not suffice, awards, the liability report. Orders are written
through ``/v1/orders`` and settled by the product's own processing."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from aftersales.services.operational import loyalty

PROGRAM = {
    "name": "api-rewards",
    "earn": {"points_per_unit": 1},
    "tiers": {"levels": [{"name": "member", "min_points": 0}, {"name": "gold", "min_points": 5000}]},
    "rewards": [{"id": "five_off", "name": "5 off", "points": 50, "kind": "amount_off", "value": 5}],
}


@pytest.fixture(scope="module")
def program(api) -> dict:
    with api.client("admin") as c:
        first = c.put("/v1/loyalty/program", json=PROGRAM)
        assert first.status_code in (200, 201), first.text
    return first.json()


def _member(api, revenue: str = "300.00", days_ago: int = 40) -> str:
    """A customer with one order placed ``days_ago`` days ago (released after 30), settled now."""
    cust = "lm_" + secrets.token_hex(4)
    ordered = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
    with api.client("admin") as c:
        assert c.post("/v1/customers", json={"customer_id": cust}).status_code == 201
        order = {"order_id": f"{cust}_o1", "customer_id": cust, "ordered_at": ordered, "revenue": revenue}
        assert c.post("/v1/orders", json=order).status_code == 201
    loyalty.process(api.plane.uow)
    return cust


def test_the_program_applies_once_and_versions_after(api, program) -> None:
    with api.client("admin") as c:
        again = c.put("/v1/loyalty/program", json=PROGRAM)
        assert again.status_code == 200 and again.json()["status"] == "unchanged"
        assert again.json()["program"]["version"] == program["program"]["version"]
        bad = c.put("/v1/loyalty/program", json={"tiers": {"levels": [{"name": "a", "min_points": 7}]}})
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["loc"] == ["body", "tiers", "levels", 0, "min_points"]
        assert "first level must start at 0" in bad.json()["errors"][0]["message"]
    with api.client("read") as c:
        got = c.get("/v1/loyalty/program").json()
        assert got["document"]["rewards"][0]["id"] == "five_off" and got["document"]["lock"]["return_window_days"] == 30
        assert c.put("/v1/loyalty/program", json=PROGRAM).status_code == 403


def test_a_members_balance_lots_tier_and_history(api, program) -> None:
    cust = _member(api)
    with api.client("read") as c:
        r = c.get(f"/v1/loyalty/members/{cust}")
        assert r.status_code == 200, r.text
        m = r.json()
        assert (m["balance"], m["available"], m["locked"]) == (300, 300, 0)
        assert [(x["lot_id"], x["remaining"]) for x in m["lots"]] == [(f"order:{cust}_o1", 300)]
        assert (m["tier"]["name"], m["tier"]["next_tier"], m["tier"]["points_to_next"]) == ("member", "gold", 4700)
        assert [h["kind"] for h in m["history"]] == ["release", "lock", "earn"]
        page = c.get(f"/v1/loyalty/members/{cust}/history", params={"limit": 2}).json()
        assert [h["kind"] for h in page["items"]] == ["release", "lock"] and page["next_cursor"]
        assert c.get("/v1/loyalty/members/nobody").status_code == 404


def test_redemptions_are_idempotent_by_header_or_body_key(api, program) -> None:
    cust = _member(api)
    body = {"member_id": cust, "reward_id": "five_off", "quantity": 2}
    key = "redeem-" + secrets.token_hex(4)
    with api.client("ingest", **{"Idempotency-Key": key}) as c:
        first = c.post("/v1/loyalty/redemptions", json=body)
        assert first.status_code == 201, first.text
        assert (first.json()["points"], first.json()["available"], first.json()["key"]) == (100, 200, key)
        again = c.post("/v1/loyalty/redemptions", json=body)
        assert again.status_code == 201 and again.headers.get("idempotent-replayed") == "true"
        assert again.json() == first.json()
    with api.client("admin") as c:  # another API key, the same redemption key in the body: the service replays
        replay = c.post("/v1/loyalty/redemptions", json={**body, "key": key})
        assert replay.status_code == 200 and replay.json()["replayed"] is True
        assert replay.json()["redemption_id"] == first.json()["redemption_id"]
        other = c.post("/v1/loyalty/redemptions", json={**body, "quantity": 1, "key": key})
        assert other.status_code == 409
        short = c.post("/v1/loyalty/redemptions", json={**body, "quantity": 5, "key": key + "x"})
        assert short.status_code == 409 and short.json()["title"] == "Not enough points"
        assert "200 available, 250 needed" in short.json()["detail"]
        nokey = c.post("/v1/loyalty/redemptions", json=body)
        assert nokey.status_code == 422 and nokey.json()["errors"][0]["loc"] == ["body", "key"]
        assert c.get(f"/v1/loyalty/members/{cust}").json()["available"] == 200
    with api.client("read") as c:
        assert c.post("/v1/loyalty/redemptions", json={**body, "key": "k"}).status_code == 403


def test_awards_and_the_liability_report(api, program) -> None:
    cust = _member(api, revenue="20.00")
    award = {"member_id": cust, "points": 80, "key": "goodwill", "reason": "late parcel"}
    with api.client("admin") as c:
        made = c.post("/v1/loyalty/awards", json=award)
        assert made.status_code == 201 and made.json()["available"] == 100, made.text
        again = c.post("/v1/loyalty/awards", json=award)
        assert again.status_code == 200 and again.json()["replayed"] is True
        taken = c.post("/v1/loyalty/awards", json={**award, "points": -30, "key": "fix"})
        assert taken.json()["lots"] == [{"lot_id": f"order:{cust}_o1", "points": -20}, {"lot_id": "adjust:goodwill",
                                                                                         "points": -10}]  # fmt: skip
        report = c.get("/v1/loyalty/liability").json()
    assert report["points_held"] >= 70 and report["currency"] == "USD"
    assert float(report["liability"]) == pytest.approx(report["points_held"] * 0.01)
    assert set(report["tiers"]) == {"member", "gold"}
