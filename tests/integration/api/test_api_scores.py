"""Stored CLV scores and metrics on a generated store (``aftersales demo``, SQLite and PostgreSQL), over
real HTTP: the API's answers equal the services called directly on the same store; the refresh stores
every customer's score, pages them by tier, honours Idempotency-Key, and announces churn-risk tier
changes to a webhook receiver on loopback."""

from __future__ import annotations

import json
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest

from aftersales import bootstrap
from aftersales.adapters.channels.webhooks import SIGNATURE_HEADER, verify_signature
from aftersales.adapters.engines import open_source
from aftersales.adapters.sources.table_files import write_table
from aftersales.core.clv.options import ClvOptions
from aftersales.services.analytical import clv
from aftersales.services.analytical import metrics as metrics_service

AS_OF = date(2024, 6, 30)


@pytest.fixture(scope="module")
def store_url(store_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The API's store, filled by the demo (generated customers and orders imported)."""
    out = tmp_path_factory.mktemp("demo") / "files"
    bootstrap.demo(customers=1200, seed=11, out=str(out), db=store_url, as_of=AS_OF)
    return store_url


def _like(records: list[dict]) -> list:
    """The service's records as the API writes them (ISO dates), floats compared approximately."""
    return [pytest.approx(r) for r in json.loads(json.dumps(records, default=lambda v: v.isoformat()))]


def test_metrics_equal_the_metrics_service_on_the_same_store(api, store_url: str) -> None:
    tz = bootstrap.settings().reporting_timezone
    today = datetime.now(ZoneInfo(tz)).date()  # as the API reads it: completeness depends on today
    with open_source(store_url) as src:
        named = metrics_service.compute(
            src, ["average_order_value", "retention_rate"], period="quarter", by="country", tz=tz, today=today
        )
        card = metrics_service.scorecard(src, period="month", tz=tz, today=today).records
    with api.client("read") as c:
        r1 = c.get(
            "/v1/metrics",
            params={"name": ["average_order_value", "retention_rate"], "period": "quarter", "by": "country"},
        )
        r2 = c.get("/v1/metrics")
    assert r1.status_code == 200 and r2.status_code == 200, (r1.text, r2.text)
    assert r1.json()["data"] == _like(named.records) and named.records
    assert r2.json()["data"] == _like(card) and r2.json()["errors"] == []
    assert {row["metric"] for row in card} >= {"retention_rate", "average_order_value"}


def _all_pages(client, **params) -> list[dict]:  # type: ignore[no-untyped-def]
    items, cursor = [], None
    while True:
        page = client.get(
            "/v1/scores", params={**params, "limit": 250, **({"cursor": cursor} if cursor else {})}
        ).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_refresh_stores_the_scores_the_clv_service_computes(api, store_url: str, tmp_path: Path) -> None:
    with api.client("admin") as c:
        r = c.post("/v1/scores/refresh", json={"horizon": 26, "margin": 0.3})
        assert r.status_code == 200, r.text
        result = r.json()
        with open_source(store_url) as src:
            direct = clv.predict_clv(
                src, ClvOptions(horizon=26, margin=0.3), out=tmp_path / "s.parquet", write=write_table
            )
        expected = {row["customer_id"]: row for row in pq.read_table(direct.out).to_pylist()}
        assert result["n_scored"] == direct.n_customers == len(expected)
        assert result["params"] == pytest.approx(direct.fit.model.params_)
        assert result["risk_tiers"] == direct.tiers
        assert result["calibration_end"] == direct.fit.calibration_end.isoformat()
        stored = _all_pages(c)
        assert len(stored) == len(expected)
        for row in stored:
            want = expected[row["customer_id"]]
            for k in ("p_alive", "expected_purchases", "expected_spend", "clv"):
                assert row[k] == pytest.approx(want[k], rel=1e-6), (row["customer_id"], k)
            assert row["risk_tier"] == want["risk_tier"] and row["horizon"] == 26
        high = _all_pages(c, risk_tier="high")
        assert len(high) == result["risk_tiers"]["high"] > 0 and {s["risk_tier"] for s in high} == {"high"}
        one = stored[len(stored) // 2]
        assert c.get(f"/v1/customers/{one['customer_id']}/scores").json() == one
        missing = c.get("/v1/customers/not-a-customer/scores")
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


def test_refresh_honours_the_idempotency_key(api) -> None:
    with api.client("admin", **{"Idempotency-Key": "refresh-once"}) as c:
        first = c.post("/v1/scores/refresh", json={})
        again = c.post("/v1/scores/refresh", json={})
    assert first.status_code == again.status_code == 200
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    with api.client("read") as c:
        some = c.get("/v1/scores", params={"limit": 1}).json()["items"][0]
    assert some["computed_at"].replace("Z", "+00:00") == first.json()["computed_at"].replace("Z", "+00:00")


def test_a_tier_change_between_refreshes_is_delivered_as_a_signed_webhook(api, receiver_factory) -> None:
    receiver = receiver_factory([])
    with api.client("admin") as c:
        sub = c.post(
            "/v1/webhook-subscriptions", json={"url": receiver.url, "event_types": ["customer.churn_risk_changed"]}
        )
        secret = sub.json()["secret"]
        assert c.post("/v1/scores/refresh", json={}).status_code == 200
        lapsed = c.get("/v1/scores", params={"risk_tier": "high", "limit": 1}).json()["items"][0]["customer_id"]
        order = {
            "order_id": "comeback-1",
            "customer_id": lapsed,
            "ordered_at": "2024-06-30T12:00:00+00:00",
            "revenue": "80.00",
        }
        assert c.post("/v1/orders", json=order).status_code == 201
        second = c.post("/v1/scores/refresh", json={}).json()
        now = c.get(f"/v1/customers/{lapsed}/scores").json()
    assert now["risk_tier"] != "high"
    assert second["n_tier_changed"] >= 1 and second["webhooks_queued"] == second["n_tier_changed"]
    deadline = time.monotonic() + 20
    while len(receiver.received) < second["webhooks_queued"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(receiver.received) == second["webhooks_queued"]
    events = {}
    for headers, body in receiver.received:
        assert verify_signature(secret, headers[SIGNATURE_HEADER], body)
        doc = json.loads(body)
        assert doc["type"] == "customer.churn_risk_changed"
        events[doc["data"]["customer_id"]] = doc["data"]
    data = events[lapsed]
    assert (data["previous_risk_tier"], data["risk_tier"]) == ("high", now["risk_tier"])
    assert data["p_alive"] == pytest.approx(now["p_alive"]) and data["clv"] == pytest.approx(now["clv"])


@pytest.mark.slow
def test_generated_requests_to_the_analytics_operations_get_documented_answers(api) -> None:
    """Schemathesis over the metrics and scores operations on the generated store (the schema fuzz in
    test_api_schema_fuzz.py covers every operation on an empty one)."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis import checks

    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    paths = {"/v1/metrics", "/v1/scores", "/v1/scores/refresh", "/v1/customers/{customer_id}/scores"}
    operations = [r.ok() for r in schema.get_all_operations() if r.ok().path in paths]
    assert len(operations) == 4
    every = [
        checks.not_a_server_error,
        checks.status_code_conformance,
        checks.content_type_conformance,
        checks.response_schema_conformance,
    ]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: schemathesis.Case) -> None:
            # A generous read timeout: the scorecard is seconds of work, and a loaded CI machine must not
            # turn a slow answer into a failure (the test checks answers, not speed).
            headers = {"Authorization": f"Bearer {api.keys['admin']}"}
            case.call_and_validate(headers=headers, checks=every, timeout=120)

        run()
