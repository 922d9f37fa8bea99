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


def test_every_report_names_its_period_and_whether_it_is_complete(tiny) -> None:
    with tiny.client("read") as c:
        r = c.get("/v1/metrics")
    assert r.status_code == 200, r.text
    body = r.json()
    # The latest month holding orders is February 2024, long over.
    assert body["periods"] == [
        {
            "start": "2024-02-01",
            "end": "2024-03-01",
            "last_day": "2024-02-29",
            "complete": True,
            "label": "2024-02-01 to 2024-02-29",
        }
    ]
    assert body["caption"] == "month 2024-02-01 to 2024-02-29"
    aov = next(row for row in body["data"] if row["metric"] == "average_order_value")
    assert (aov["period"], aov["value"], aov["complete"]) == ("2024-02-01", 35.0, True)


@pytest.mark.parametrize(
    "params",
    [
        {"name": "average_order_value", "period": "day", "from": "2024-01-01", "to": "2025-02-05"},  # 401 days
        {"name": "average_order_value", "period": "day", "from": "1900-01-01"},  # to the latest order: 45,000 days
    ],
)
def test_a_request_for_too_many_periods_is_refused_naming_period(tiny, params: dict) -> None:
    with tiny.client("read") as c:
        r = c.get("/v1/metrics", params=params)
    assert r.status_code == 422, r.text
    assert [e["loc"] for e in r.json()["errors"]] == [["query", "period"]]


def test_service_errors_are_located_without_cli_flags(tiny) -> None:
    with tiny.client("read") as c:
        r = c.get("/v1/metrics", params={"by": "no_such_column"})
    assert r.status_code == 422, r.text
    body = r.json()
    assert [e["loc"] for e in body["errors"]] == [["query", "by"]]
    assert "--" not in body["detail"] and all("--" not in e["message"] for e in body["errors"])


def test_analytics_beyond_the_concurrency_limit_get_429_and_ingestion_does_not(tiny) -> None:
    from aftersales.entrypoints.api.routers.analytics import RETRY_AFTER_S, analytics_slots

    slots = analytics_slots(tiny.app)
    held = 0
    while slots.try_acquire():  # occupy every slot, as long-running requests would
        held += 1
    try:
        assert held == slots.limit >= 1
        with tiny.client("read") as c:
            r = c.get("/v1/metrics", params={"name": "average_order_value"})
        assert r.status_code == 429, r.text
        assert r.headers["retry-after"] == str(RETRY_AFTER_S)
        assert r.headers["content-type"] == "application/problem+json"
        with tiny.client("ingest") as c:
            body = {"event_id": "busy-1", "name": "checkout_started", "customer_id": "c1"}
            body["occurred_at"] = "2024-02-11T10:00:00Z"
            assert c.post("/v1/events", json={"events": [body]}).status_code == 202
        with tiny.client(None) as c:
            assert c.get("/healthz").status_code == 200
    finally:
        for _ in range(held):
            slots.release()
    with tiny.client("read") as c:
        assert c.get("/v1/metrics", params={"name": "average_order_value"}).status_code == 200


def test_orders_of_the_current_month_are_shown_to_date(tiny) -> None:
    """A series ends with the current month "to date"; the scorecard, whose single period would compare
    a few days against whole months, shows the latest complete month and says why."""
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    with tiny.client("ingest") as c:
        body = {"order_id": "o-now", "customer_id": "c1", "ordered_at": now.isoformat(), "revenue": "12.50"}
        assert c.post("/v1/orders", json=body).status_code == 201
    with tiny.client("read") as c:
        series = c.get("/v1/metrics", params={"name": "average_order_value"})
        card = c.get("/v1/metrics")
    assert series.status_code == 200, series.text
    shown = series.json()["periods"][-1]
    assert (shown["start"], shown["last_day"], shown["complete"]) == (
        now.date().replace(day=1).isoformat(),
        now.date().isoformat(),
        False,
    )
    assert "to date" in shown["label"] and "to date" in series.json()["caption"]
    aov = [row for row in series.json()["data"] if row["metric"] == "average_order_value"][-1]
    assert (aov["value"], aov["orders"], aov["complete"]) == (12.5, 1, False)
    assert card.status_code == 200, card.text
    [month] = card.json()["periods"]
    previous = (now.date().replace(day=1) - timedelta(days=1)).replace(day=1)
    assert (month["start"], month["complete"]) == (previous.isoformat(), True)
    assert "is not over" in card.json()["caption"]
