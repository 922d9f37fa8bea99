"""GET /v1/metrics over real HTTP: a hand-computed average order value on orders written through the
API (SQLite and PostgreSQL), and field-level 422 problems for bad names, periods and dates."""

from __future__ import annotations

import pytest

ORDERS = [  # (order_id, customer_id, ordered_at, revenue)
    ("o1", "c1", "2024-01-05T10:00:00+00:00", "10.00"),
    ("o2", "c1", "2024-01-20T12:00:00+00:00", "30.00"),
    ("o3", "c2", "2024-01-31T23:30:00-05:00", "50.00"),  # 04:30 UTC on 1 February
    ("o4", "c2", "2024-02-10T08:00:00+00:00", "20.00"),
]


@pytest.fixture(scope="module")
def tiny(api):  # type: ignore[no-untyped-def]
    with api.client("ingest") as c:
        for cid in ("c1", "c2"):
            assert c.post("/v1/customers", json={"customer_id": cid}).status_code == 201
        for oid, cid, at, revenue in ORDERS:
            body = {"order_id": oid, "customer_id": cid, "ordered_at": at, "revenue": revenue}
            assert c.post("/v1/orders", json=body).status_code == 201, oid
    return api


def test_average_order_value_by_month_equals_the_hand_computed_one(tiny) -> None:
    # January (UTC): o1 + o2 = 40.00 over 2 orders = 20.00; February: o3 + o4 = 70.00 / 2 = 35.00.
    params = {"name": "average_order_value", "period": "month", "from": "2024-01-01", "to": "2024-03-01"}
    with tiny.client("read") as c:
        r = c.get("/v1/metrics", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["errors"] == []
    got = {row["period"]: (row["value"], row["revenue"], row["orders"]) for row in body["data"]}
    assert got == {"2024-01-01": (20.0, 40.0, 2), "2024-02-01": (35.0, 70.0, 2)}
    assert {row["segment"] for row in body["data"]} == {None}


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"name": "no_such_metric"}, ["query", "name"]),
        ({"period": "fortnight"}, ["query", "period"]),
        ({"from": "2024-13-01"}, ["query", "from"]),
        ({"to": "yesterday"}, ["query", "to"]),
        ({"name": "average_order_value", "from": "2024-03-01", "to": "2024-01-01"}, ["query", "from"]),
        ({"name": "average_order_value", "from": "0001-01-01", "to": "2024-01-01"}, ["query", "from"]),
        (
            {"name": "average_order_value", "period": "day", "from": "2000-01-01", "to": "2024-01-01"},
            ["query", "period"],
        ),
        ({"by": "no_such_column", "to": "2024-03-01"}, ["query", "by"]),
        ({"by": "bad column!"}, ["query", "by"]),
    ],
)
def test_bad_queries_are_422_problems_naming_the_field(tiny, params: dict, loc: list) -> None:
    with tiny.client("read") as c:
        r = c.get("/v1/metrics", params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert loc in [e["loc"] for e in r.json()["errors"]]
