"""``/v1/segments`` over real HTTP on SQLite and PostgreSQL: CRUD from either spelling, scopes, bad
definitions as located 422 problems that write nothing, preview on the stored profiles, members in
pages and sizes after a refresh."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest
from sqlalchemy import insert

from aftersales import bootstrap
from aftersales.adapters.sql.repositories.profiles import profile_arrow_schema
from aftersales.adapters.sql.tables import TABLES
from aftersales.services.operational import segments

AT = datetime(2024, 6, 30, 12, tzinfo=UTC)
PROFILES = [
    {"customer_id": f"p{i:02d}", "orders": i % 4, "churn_risk": ("high", "low")[i % 2], "email_consent": i % 3 != 0}
    for i in range(12)
]  # orders >= 2: p02 p03 p06 p07 p10 p11


@pytest.fixture(scope="module")
def seeded(api) -> object:
    """The API's store holding twelve customers' profiles."""
    with api.plane.engine.begin() as conn:
        conn.execute(insert(TABLES["customers"]), [{"customer_id": p["customer_id"]} for p in PROFILES])
    with api.plane.uow() as u:
        u.profiles.replace_all(pa.Table.from_pylist(PROFILES, schema=profile_arrow_schema()), AT)
    return api


def _names(client) -> set[str]:
    return {s["name"] for s in client.get("/v1/segments", params={"limit": 1000}).json()["items"]}


def test_create_read_change_delete(seeded) -> None:
    with seeded.client("admin") as c:
        made = c.post("/v1/segments", json={"name": "crud", "where": "orders>=2 AND email_consent", "description": "d"})
        assert made.status_code == 201, made.text
        seg = made.json()
        assert seg["where"] == "orders >= 2 and email_consent"
        assert seg["definition"] == {"all": [{"field": "orders", "op": ">=", "value": 2}, {"field": "email_consent"}]}
        assert (seg["size"], seg["refreshed_at"], seg["segment_id"][:4]) == (None, None, "seg_")
        assert c.get(f"/v1/segments/{seg['segment_id']}").json() == seg
        patched = c.patch(f"/v1/segments/{seg['segment_id']}", json={"description": None, "name": "crud2"})
        assert patched.status_code == 200 and (patched.json()["name"], patched.json()["description"]) == ("crud2", None)
        assert patched.json()["where"] == seg["where"]
        assert c.delete(f"/v1/segments/{seg['segment_id']}").status_code == 200
        assert c.get(f"/v1/segments/{seg['segment_id']}").status_code == 404
        assert "crud2" not in _names(c)


def test_the_json_form_and_a_taken_name(seeded) -> None:
    definition = {"any": [{"field": "churn_risk", "op": "=", "value": "high"}, {"owns": {"product": "P1"}}]}
    with seeded.client("admin") as c:
        made = c.post("/v1/segments", json={"name": "json form", "definition": definition})
        assert made.status_code == 201, made.text
        assert made.json()["where"] == "churn_risk = 'high' or owns('P1')"
        taken = c.post("/v1/segments", json={"name": "json form", "where": "orders > 1"})
        assert taken.status_code == 409 and taken.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"where": "clv_teir = 'above_average'"}, ["body", "where", 1, 1]),
        ({"where": "orders >= 2 and"}, ["body", "where", 1, 16]),
        (
            {"definition": {"all": [{"field": "ordrs", "op": ">", "value": 1}]}},
            ["body", "definition", "all", 0, "field"],
        ),
        ({"where": "orders > 1", "definition": {"field": "email_consent"}}, ["body", "where"]),
    ],
)
def test_a_bad_definition_is_a_located_422_and_writes_nothing(seeded, body, loc) -> None:
    with seeded.client("admin") as c:
        before = _names(c)
        res = c.post("/v1/segments", json={"name": "bad one", **body})
        assert res.status_code == 422, res.text
        problem = res.json()
        assert problem["errors"][0]["loc"] == loc
        if "not both" not in problem["detail"]:
            assert problem["detail"].splitlines()[-1].startswith("valid fields: customer_id, first_order_at")
        assert _names(c) == before


def test_a_hostile_definition_is_a_422_not_a_crash(seeded) -> None:
    deep: dict = {"field": "email_consent"}
    for _ in range(200):
        deep = {"not": deep}
    with seeded.client("admin") as c:
        res = c.post("/v1/segments", json={"name": "deep", "definition": deep})
        assert res.status_code == 422 and "64" in res.text


def test_scopes(seeded) -> None:
    with seeded.client("read") as c:
        assert c.post("/v1/segments", json={"name": "r", "where": "orders > 1"}).status_code == 403
        assert c.get("/v1/segments").status_code == 200
        assert c.post("/v1/segments/preview", json={"where": "orders > 1"}).status_code == 200
    with seeded.client("ingest") as c:
        assert c.get("/v1/segments").status_code == 403
    with seeded.client(None) as c:
        assert c.get("/v1/segments").status_code == 401


def test_preview_counts_and_samples_the_stored_profiles(seeded) -> None:
    with seeded.client("read") as c:
        res = c.post("/v1/segments/preview", json={"where": "orders >= 2 and churn_risk = 'high'", "limit": 2})
        assert res.status_code == 200, res.text
        body = res.json()
        assert (body["count"], body["total"]) == (3, 12)  # p02 p06 p10
        assert body["sample"] == [
            {"customer_id": "p02", "orders": 2, "churn_risk": "high"},
            {"customer_id": "p06", "orders": 2, "churn_risk": "high"},
        ]
        bad = c.post("/v1/segments/preview", json={"where": "orderz > 1"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["body", "where", 1, 1]
        naive = c.post("/v1/segments/preview", json={"where": "orders > 1", "now": "2024-06-30T12:00:00"})
        assert naive.status_code == 422


def test_members_in_pages_and_sizes_after_a_refresh(seeded) -> None:
    with seeded.client("admin") as c:
        seg = c.post("/v1/segments", json={"name": "repeat", "where": "orders >= 2"}).json()
    with bootstrap.open_source(seeded.plane.url) as src:
        segments.refresh_memberships(seeded.plane.uow, src, AT)
    seen, cursor = [], None
    with seeded.client("read") as c:
        while True:
            params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
            page = c.get(f"/v1/segments/{seg['segment_id']}/members", params=params).json()
            seen += [m["customer_id"] for m in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == ["p02", "p03", "p06", "p07", "p10", "p11"]
        sizes = c.get(f"/v1/segments/{seg['segment_id']}/sizes").json()["items"]
        assert [(s["size"], s["entered"], s["exited"]) for s in sizes] == [(6, 6, 0)]
        assert datetime.fromisoformat(sizes[0]["refreshed_at"]) == AT
        assert c.get(f"/v1/segments/{seg['segment_id']}").json()["size"] == 6
        assert c.get(f"/v1/segments/{seg['segment_id']}/members", params={"cursor": "bad"}).status_code == 400
        assert c.get("/v1/segments/seg_nope/members").status_code == 404
