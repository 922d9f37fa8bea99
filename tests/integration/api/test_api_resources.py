"""Resources over real HTTP: create, read, update, list with cursors; problem+json on bad input."""

from __future__ import annotations

import base64
import uuid

import pytest


def _id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def seeded(api):
    with api.client() as c:
        cust, prod = _id("c"), _id("p")
        assert c.post("/v1/customers", json={"customer_id": cust, "email": "x@example.com"}).status_code == 201
        assert c.post("/v1/products", json={"product_id": prod, "price": 12.5}).status_code == 201
    return cust, prod


def test_an_order_with_lines_round_trips_in_utc_with_exact_money(api, seeded) -> None:
    cust, prod = seeded
    oid = _id("o")
    body = {
        "order_id": oid,
        "customer_id": cust,
        "ordered_at": "2024-03-01T10:00:00+01:00",
        "revenue": "19.90",
        "lines": [{"line_number": 1, "product_id": prod, "quantity": 2, "unit_price": 9.95}],
    }
    with api.client() as c:
        created = c.post("/v1/orders", json=body)
        assert created.status_code == 201, created.text
        got = c.get(f"/v1/orders/{oid}").json()
    assert got == created.json()
    assert got["ordered_at"] == "2024-03-01T09:00:00Z"
    assert got["revenue"] == "19.90" and got["status"] == "placed" and got["currency"] == "USD"
    assert got["lines"] == [
        {"order_id": oid, "line_number": 1, "product_id": prod, "quantity": 2, "unit_price": "9.95", "discount": "0.00"}
    ]


def test_update_changes_given_fields_and_replaces_lines(api, seeded) -> None:
    cust, prod = seeded
    oid = _id("o")
    with api.client() as c:
        c.post(
            "/v1/orders",
            json={
                "order_id": oid,
                "customer_id": cust,
                "ordered_at": "2024-01-01T00:00:00Z",
                "revenue": 5,
                "lines": [{"line_number": 1, "product_id": prod, "quantity": 1, "unit_price": 5}],
            },
        )
        r = c.patch(
            f"/v1/orders/{oid}", json={"status": "delivered", "delivered_at": "2024-01-03T12:00:00-05:00", "lines": []}
        )
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["status"] == "delivered" and out["delivered_at"] == "2024-01-03T17:00:00Z"
        assert out["lines"] == [] and out["revenue"] == "5.00"
        assert c.patch(f"/v1/orders/{_id('nope')}", json={"status": "paid"}).status_code == 404
        cleared = c.patch(f"/v1/orders/{oid}", json={"delivered_at": None}).json()
        assert cleared["delivered_at"] is None
        assert c.patch(f"/v1/orders/{oid}", json={"revenue": None}).status_code == 422  # required: cannot clear


def test_conflict_not_found_and_unknown_parents(api, seeded) -> None:
    cust, _ = seeded
    with api.client() as c:
        dup = c.post("/v1/customers", json={"customer_id": cust})
        assert dup.status_code == 409 and dup.headers["content-type"] == "application/problem+json"
        assert c.get(f"/v1/customers/{_id('none')}").status_code == 404
        ticket = {"ticket_id": _id("t"), "customer_id": "ghost", "opened_at": "2024-01-01T00:00Z"}
        r = c.post("/v1/tickets", json=ticket)
        assert r.status_code == 422
        assert r.json()["errors"] == [{"loc": ["customer_id"], "message": "no customers row with customer_id 'ghost'"}]


def test_survey_scores_must_lie_on_their_scale(api, seeded) -> None:
    cust, _ = seeded
    base = {"survey_id": "s1", "customer_id": cust, "responded_at": "2024-05-01T08:00:00Z"}
    with api.client() as c:
        ok = c.post("/v1/survey-responses", json={**base, "response_id": _id("r"), "kind": "nps", "score": 10})
        assert ok.status_code == 201 and ok.json()["dimension"] == "overall"
        bad = c.post("/v1/survey-responses", json={**base, "response_id": _id("r"), "kind": "ces", "score": 8})
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["message"] == "ces scores run from 1 to 7, got 8"
        rid = ok.json()["response_id"]
        assert c.get(f"/v1/survey-responses/{rid}/overall").json()["score"] == 10


def test_validation_problems_name_every_field(api) -> None:
    with api.client() as c:
        r = c.post("/v1/customers", json={"customer_id": "", "created_at": "2024-03-01T10:00:00", "vip": True})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    doc = r.json()
    assert doc["type"].endswith("/validation-failed") and doc["status"] == 422
    locs = {tuple(e["loc"]) for e in doc["errors"]}
    assert locs == {("body", "customer_id"), ("body", "created_at"), ("body", "vip")}
    assert "2024-03-01T10:00:00" not in r.text  # input values are not echoed


def test_money_with_more_than_two_decimals_and_nul_text_are_rejected(api) -> None:
    with api.client() as c:
        assert c.post("/v1/products", json={"product_id": _id("p"), "price": 1.005}).status_code == 422
        assert c.post("/v1/products", json={"product_id": _id("p"), "name": "a\u0000b"}).status_code == 422


def test_cursor_pagination_visits_every_row_once_in_key_order(api) -> None:
    ids = sorted(_id("page") for _ in range(7))
    with api.client() as c:
        for cid in ids:
            assert c.post("/v1/customers", json={"customer_id": cid}).status_code == 201
        seen, cursor = [], None
        while True:
            params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            page = c.get("/v1/customers", params=params).json()
            seen += [item["customer_id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert c.get("/v1/customers", params={"cursor": "!!"}).status_code == 400
        nul = base64.urlsafe_b64encode(b'["c\\u0000"]').decode()  # decodes to a key the store cannot compare
        assert c.get("/v1/customers", params={"cursor": nul}).status_code == 400
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert set(ids) <= set(seen)


def test_bodies_over_the_limit_get_413_declared_or_streamed(api) -> None:
    big = b'{"customer_id": "' + b"x" * api.max_body + b'"}'
    with api.client(**{"Content-Type": "application/json"}) as c:
        assert c.post("/v1/customers", content=big).status_code == 413
        streamed = c.post("/v1/customers", content=iter([big[:1000], big[1000:]]))
        assert streamed.status_code == 413
        assert streamed.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("value", ["a\x00b", "a/b", ""])
def test_a_list_filter_outside_the_key_pattern_is_a_validation_problem(api, value: str) -> None:
    with api.client("read") as c:
        r = c.get("/v1/subscriptions", params={"customer_id": value})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["loc"] == ["query", "customer_id"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("orders", {"ordered_at": 1700000000}, "ordered_at"),  # was stored as 2023-11-14T22:13:20Z
        ("orders", {"ordered_at": "2024-03-01T10:00:00Z", "delivered_at": 1.7e9}, "delivered_at"),
        ("products", {"warranty_days": False}, "warranty_days"),  # was stored as 0
        ("products", {"warranty_days": "30"}, "warranty_days"),
        ("products", {"service_interval_days": 90.0}, "service_interval_days"),
        ("customers", {"email_consent": 1}, "email_consent"),
        ("customers", {"sms_consent": "yes"}, "sms_consent"),
    ],
)
def test_numbers_are_not_time_stamps_and_booleans_are_not_integers(api, seeded, path, body, field) -> None:
    cust, _ = seeded
    key = {"orders": "order_id", "products": "product_id", "customers": "customer_id"}[path]
    full = {key: _id("strict"), **({"customer_id": cust, "revenue": "10.00"} if path == "orders" else {}), **body}
    with api.client() as c:
        r = c.post(f"/v1/{path}", json=full)
        assert r.status_code == 422, r.text
        assert [e["loc"] for e in r.json()["errors"]] == [["body", field]]
        assert c.get(f"/v1/{path}/{full[key]}").status_code == 404


def test_json_integers_booleans_and_time_stamp_strings_are_accepted(api, seeded) -> None:
    cust, _ = seeded
    with api.client() as c:
        p = c.post("/v1/products", json={"product_id": _id("p"), "warranty_days": 0, "service_interval_days": 90})
        assert p.status_code == 201 and p.json()["warranty_days"] == 0, p.text
        assert c.post("/v1/customers", json={"customer_id": _id("c"), "email_consent": False}).status_code == 201
        o = {"order_id": _id("o"), "customer_id": cust, "revenue": "1.00", "ordered_at": "2024-03-01T10:00:00+01:00"}
        assert c.post("/v1/orders", json=o).json()["ordered_at"].startswith("2024-03-01T09:00:00")
