"""Membership over time on SQLite and PostgreSQL, evaluated on DuckDB: entered/exited rows, sizes,
events and webhooks across two refreshes; a retried refresh writes nothing twice.

Worked by hand from the profiles in conftest.py (world.T1, then world.T2 after the profile changes):

* vip (``clv_tier = 'above_average' and churn_risk in ('high', 'medium') and email_consent``):
  world.T1 {c1, c5}; world.T2 {c2} (c1's risk fell to low, c5 withdrew consent, c2 gave it): c2 enters, c1 and c5 exit;
* repeat (``orders >= 2``): world.T1 {c1, c2, c5}; world.T2 {c1, c2, c3, c5}: c3 enters;
* abandoners (checkout started, not completed, within 7 days): world.T1 and world.T2 {c2}.

Events: world.T1 6 entered; world.T2 2 entered + 2 exited.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from aftersales.core.errors import ConflictError
from aftersales.services.operational import segments
from aftersales.services.operational.segment_changes import event_id
from aftersales.services.ports import SubscriptionRecord

BIKES = "categories_bought contains 'bikes'"


def _save(store, world) -> dict[str, str]:
    return {
        name: segments.create(store.uow, name, where=where).segment_id
        for name, where in (("vip", world.VIP), ("repeat", world.REPEAT), ("abandoners", world.ABANDONERS))
    }


def _subscribe(store, *types: str) -> str:
    with store.uow() as u:
        u.webhooks.add_subscription(
            SubscriptionRecord("wh_seg", "https://hooks.example.com/x", types, "whsec_x", True, None, datetime.now(UTC))
        )
    return "wh_seg"


def _refresh(store, world, at: datetime, **kw) -> segments.MembershipRefresh:
    with world.source_at(at, **kw) as src:
        return segments.refresh_memberships(store.uow, src, at)


def test_two_refreshes_store_entries_exits_sizes_and_events(store, world) -> None:
    ids = _save(store, world)
    first = _refresh(store, world, world.T1)
    assert {s.name: (s.size, s.entered, s.exited, s.events) for s in first.segments} == {
        "vip": (2, 2, 0, 2), "repeat": (3, 3, 0, 3), "abandoners": (1, 1, 0, 1)
    }  # fmt: skip
    second = _refresh(store, world, world.T2)
    assert {s.name: (s.size, s.entered, s.exited, s.events) for s in second.segments} == {
        "vip": (1, 1, 2, 3), "repeat": (4, 1, 0, 1), "abandoners": (1, 0, 0, 0)
    }  # fmt: skip
    t1, t2 = world.T1, world.T2
    assert store.memberships(ids["vip"]) == [("c1", t1, t2), ("c2", t2, None), ("c5", t1, t2)]
    assert [m[0] for m in store.memberships(ids["repeat"]) if m[2] is None] == ["c1", "c2", "c3", "c5"]

    events = store.events()
    assert len(events) == 10
    assert sum(1 for e in events if e[2] == "segment.entered") == 8
    exited = sorted((e[0], e[1]) for e in events if e[2] == "segment.exited")
    assert exited == sorted((event_id(ids["vip"], c, "exited", world.T2), c) for c in ("c1", "c5"))

    sizes = segments.sizes_page(store.uow, "vip")["items"]
    assert [(s["refreshed_at"], s["size"], s["entered"], s["exited"]) for s in sizes] == [(t1, 2, 2, 0), (t2, 1, 1, 2)]
    assert segments.get(store.uow, "repeat").size == 4 and segments.get(store.uow, "repeat").refreshed_at == world.T2


def test_a_retried_refresh_writes_nothing_twice(store, world) -> None:
    _save(store, world)
    _subscribe(store, "segment.entered", "segment.exited")
    _refresh(store, world, world.T1)
    before = (store.count("events"), store.count("segment_memberships"), store.count("segment_sizes"),
              store.count("webhook_deliveries"))  # fmt: skip
    again = _refresh(store, world, world.T1)
    assert [(s.entered, s.exited, s.events, s.webhooks_queued) for s in again.segments] == [(0, 0, 0, 0)] * 3
    after = (store.count("events"), store.count("segment_memberships"), store.count("segment_sizes"),
             store.count("webhook_deliveries"))  # fmt: skip
    assert after == before == (6, 6, 3, 6)
    assert segments.sizes_page(store.uow, "vip")["items"][0]["size"] == 2  # the first run's row is kept


def test_a_refresh_cannot_go_back_in_time(store, world) -> None:
    _save(store, world)
    _refresh(store, world, world.T2)
    with pytest.raises(ConflictError, match="cannot go back in time"):
        _refresh(store, world, world.T1)
    assert store.count("segment_sizes") == 3


def test_webhooks_are_queued_for_the_subscribed_changes(store, world) -> None:
    ids = _save(store, world)
    sub = _subscribe(store, "segment.exited")
    first = _refresh(store, world, world.T1)
    assert first.webhooks_queued == 0  # only exits are subscribed to
    second = _refresh(store, world, world.T2)
    assert second.webhooks_queued == 2
    with store.uow() as u:
        queued = u.webhooks.list_deliveries(subscription_id=sub, status="pending", after=None, limit=10)
    payloads = sorted((json.loads(d.payload)["data"] for d in queued), key=lambda d: d["customer_id"])
    assert [(d["customer_id"], d["segment_id"], d["segment_name"]) for d in payloads] == [
        ("c1", ids["vip"], "vip"), ("c5", ids["vip"], "vip")
    ]  # fmt: skip
    assert payloads[0]["event_id"] == event_id(ids["vip"], "c1", "exited", world.T2)
    assert {d.event_type for d in queued} == {"segment.exited"}


def test_members_come_in_pages_in_customer_order(store, world) -> None:
    segments.create(store.uow, "everyone", where="customer_id is not null")
    extra = [{"customer_id": f"x{i:02d}", "orders": 0} for i in range(7)]
    _refresh(store, world, world.T1, extra=extra)
    seen, cursor, pages = [], None, 0
    while True:
        page = segments.members_page(store.uow, "everyone", limit=5, cursor=cursor)
        seen += [m["customer_id"] for m in page["items"]]
        assert all(m["entered_at"] == world.T1 for m in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["c1", "c2", "c3", "c4", "c5", *(f"x{i:02d}" for i in range(7))] and pages == 3


def test_a_segment_the_source_cannot_evaluate_is_skipped_and_named(store, world) -> None:
    _save(store, world)
    result = _refresh(store, world, world.T1, events=False)
    assert {s.name for s in result.segments} == {"vip", "repeat"}
    assert "needs the events table" in result.skipped["abandoners"]
    assert store.count("segment_sizes") == 2


def test_deleted_segments_are_not_refreshed(store, world) -> None:
    _save(store, world)
    segments.delete(store.uow, "repeat")
    result = _refresh(store, world, world.T1)
    assert {s.name for s in result.segments} == {"vip", "abandoners"}


def test_duckdb_over_parquet_gives_the_same_members(store, tmp_path, world) -> None:
    ids = _save(store, world)
    with world.parquet_source(tmp_path, world.T2) as src:
        result = segments.refresh_memberships(store.uow, src, world.T2)
    assert {s.name: s.size for s in result.segments} == {"vip": 1, "repeat": 4, "abandoners": 1}
    assert [m[0] for m in store.memberships(ids["vip"])] == ["c2"]


def test_now_must_carry_a_zone(store, world) -> None:
    from aftersales.core.errors import ValidationError

    with world.source_at(world.T1) as src, pytest.raises(ValidationError, match="time zone"):
        segments.refresh_memberships(store.uow, src, datetime(2024, 6, 30))


def test_a_refresh_over_the_stored_profiles(store, world) -> None:
    """The chain ``aftersales refresh`` runs: profiles written to the store, read back by the store's
    own analytical source (DuckDB over SQLite; PostgreSQL in place), then memberships."""
    from aftersales import bootstrap

    ids = {n: segments.create(store.uow, n, where=w).segment_id for n, w in (("vip", world.VIP), ("bikes", BIKES))}
    for at in (world.T1, world.T2):
        store.write_profiles(at)
        with bootstrap.open_source(store.url) as src:
            result = segments.refresh_memberships(store.uow, src, at)
        assert not result.skipped
    t1, t2 = world.T1, world.T2
    assert store.memberships(ids["vip"]) == [("c1", t1, t2), ("c2", t2, None), ("c5", t1, t2)]
    assert [m[0] for m in store.memberships(ids["bikes"])] == ["c1", "c2"]  # a list field, stored as JSON / TEXT[]
