"""Resource use cases on the in-memory unit of work: keys, parents, defaults, pages and the outbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from aftersales.core.errors import ConflictError, NotFoundError, UnusableInputError, ValidationError
from aftersales.services.operational import resources
from aftersales.services.ports import SubscriptionRecord

AT = datetime(2024, 3, 1, 10, tzinfo=UTC)


def subscribe(uow, *event_types: str, active: bool = True) -> str:
    sub_id = f"wh_{len(uow.store.state.subscriptions)}"
    sub = SubscriptionRecord(sub_id, "https://hooks.test/in", event_types, "secret", active, None, AT)
    with uow() as u:  # stored directly: registration's URL rules are not what these tests are about
        u.webhooks.add_subscription(sub)
    return sub_id


def payloads(uow) -> list[tuple[str, str, dict]]:
    out = [(d.subscription_id, d.event_type, json.loads(d.payload)) for d in uow.store.state.deliveries.values()]
    return sorted(out, key=lambda x: (x[0], x[1]))


def order(order_id: str = "o1", customer_id: str = "c1", **kw: object) -> dict:
    return {"order_id": order_id, "customer_id": customer_id, "ordered_at": AT, "revenue": 30.0, **kw}


def test_create_fills_defaults_and_queues_the_created_event_for_matching_subscribers(uow):
    everything, customers_only = subscribe(uow, "*"), subscribe(uow, "customer.created")
    subscribe(uow, "order.created")
    subscribe(uow, "customer.created", active=False)
    row = resources.create(uow, "customers", {"customer_id": "c1", "country": "NO"})
    assert row["email_consent"] is False and row["country"] == "NO"
    sent = payloads(uow)
    assert [(s, t) for s, t, _ in sent] == [(everything, "customer.created"), (customers_only, "customer.created")]
    assert sent[0][2]["data"] == row


def test_an_existing_key_is_a_conflict_and_nothing_more_is_written(uow):
    resources.create(uow, "customers", {"customer_id": "c1"})
    subscribe(uow, "*")
    with pytest.raises(ConflictError):
        resources.create(uow, "customers", {"customer_id": "c1", "country": "SE"})
    assert resources.get(uow, "customers", {"customer_id": "c1"})["country"] is None
    assert uow.store.state.deliveries == {}


def test_unknown_parents_are_located_and_roll_back_the_whole_write(uow):
    resources.create(uow, "customers", {"customer_id": "c1"})
    resources.create(uow, "products", {"product_id": "p1"})
    lines = [
        {"line_number": 1, "product_id": "p1", "quantity": 1, "unit_price": 10.0},
        {"line_number": 2, "product_id": "nope", "quantity": 1, "unit_price": 20.0},
    ]
    with pytest.raises(ValidationError) as info:
        resources.create(uow, "orders", order(customer_id="ghost", lines=lines))
    assert [e.loc for e in info.value.errors] == [("customer_id",), ("lines", 1, "product_id")]
    assert "orders" not in uow.store.state.rows or uow.store.state.rows["orders"] == {}


def test_an_order_is_created_and_updated_with_its_lines(uow):
    resources.create(uow, "customers", {"customer_id": "c1"})
    resources.create(uow, "products", {"product_id": "p1"})
    line = {"line_number": 1, "product_id": "p1", "quantity": 2, "unit_price": 15.0}
    created = resources.create(uow, "orders", order(lines=[line]))
    assert created["status"] == "placed" and created["currency"] == "USD"
    assert [(ln["order_id"], ln["quantity"], ln["discount"]) for ln in created["lines"]] == [("o1", 2, 0)]
    subscribe(uow, "order.updated")
    new_lines = [{**line, "quantity": 1}, {**line, "line_number": 2}]
    updated = resources.update(uow, "orders", {"order_id": "o1"}, {"status": "paid", "lines": new_lines})
    assert updated["status"] == "paid" and [ln["quantity"] for ln in updated["lines"]] == [1, 2]
    [(_, event_type, body)] = payloads(uow)
    assert event_type == "order.updated" and len(body["data"]["lines"]) == 2


def test_duplicate_line_numbers_and_off_scale_scores_are_invalid(uow):
    resources.create(uow, "customers", {"customer_id": "c1"})
    resources.create(uow, "products", {"product_id": "p1"})
    line = {"line_number": 1, "product_id": "p1", "quantity": 1, "unit_price": 1.0}
    with pytest.raises(ValidationError) as info:
        resources.create(uow, "orders", order(lines=[line, line]))
    assert [e.loc for e in info.value.errors] == [("lines",)]
    survey = {"response_id": "r1", "survey_id": "s", "kind": "csat", "score": 6, "responded_at": AT}
    with pytest.raises(ValidationError) as info:
        resources.create(uow, "survey-responses", survey)
    assert [e.loc for e in info.value.errors] == [("score",)]


def test_updating_a_missing_row_is_not_found(uow):
    with pytest.raises(NotFoundError):
        resources.update(uow, "customers", {"customer_id": "c9"}, {"country": "NO"})


def test_pages_follow_the_key_order_with_an_opaque_cursor(uow):
    for cid in ("c3", "c1", "c5", "c2", "c4"):
        resources.create(uow, "customers", {"customer_id": cid})
    seen, cursor = [], None
    while True:
        page = resources.list_page(uow, "customers", limit=2, cursor=cursor)
        seen.append([r["customer_id"] for r in page.items])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [["c1", "c2"], ["c3", "c4"], ["c5"]]
    with pytest.raises(UnusableInputError):
        resources.list_page(uow, "customers", cursor="not a cursor")
