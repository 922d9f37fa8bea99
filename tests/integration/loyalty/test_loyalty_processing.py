"""Processing the store's orders into the ledger on SQLite and PostgreSQL: hand-computed ledgers,
re-processing that writes nothing, bonuses, tier changes and the events they announce."""

from __future__ import annotations

import pytest

from aftersales.core.errors import NotFoundError
from aftersales.services.operational import loyalty


def test_processing_needs_a_program(world) -> None:
    with pytest.raises(NotFoundError, match="no loyalty program yet"):
        world.process(0)


def test_earn_lock_release_on_day_31_and_reverse_on_return(world) -> None:
    world.apply()
    world.customer("c1")
    world.order("o1", "c1", 0, 120.0, lines=[("p-bike", 1, 60), ("p-lock", 2, 30)])  # 120 * (0.5*2 + 0.5) = 180
    world.order("o2", "c1", 2, 40.0)
    first = world.process(2)
    assert (first.members, first.entries, first.by_kind) == (1, 4, {"earn": 2, "lock": 2})
    assert world.rows("c1") == [("order:o1", "earn", 180, 0), ("order:o1:lock", "lock", 0, 180),
                                ("order:o2", "earn", 40, 0), ("order:o2:lock", "lock", 0, 40)]  # fmt: skip
    m = world.member("c1", 29.9)
    assert (m.balance, m.locked, m.available) == (220, 220, 0)
    assert world.process(29.9).entries == 0
    world.returned("o2", 10)
    released = world.process(30)  # 2024-01-31: o1's window is over; o2 came back on day 10
    assert released.by_kind == {"reverse": 1, "release": 1}
    assert world.rows("c1")[4:] == [("order:o2:reverse", "reverse", -40, -40), ("order:o1:release", "release", 0, -180)]
    m = world.member("c1", 30)
    assert (m.balance, m.locked, m.available) == (180, 0, 180)
    assert [(x.lot_id, x.remaining, x.available) for x in m.lots] == [("order:o1", 180, 180)]


def test_re_processing_the_same_orders_changes_nothing(world) -> None:
    world.apply()
    for c in ("c1", "c2"):
        world.customer(c)
    world.order("o1", "c1", 0, 100.0)
    world.order("o2", "c2", 5, 700.0)
    world.process(400)
    before = world.count("loyalty_entries")
    again = world.process(400)
    assert again.entries == 0 and again.tier_changes == 0 and again.events == 0
    assert world.count("loyalty_entries") == before == 2 * 4  # earn, lock, release, expire each
    assert world.count("loyalty_runs") == 1


def test_fifo_expiry_never_takes_spent_points(world) -> None:
    world.apply()
    world.customer("c1")
    world.order("a", "c1", 0, 100.0)
    world.order("b", "c1", 152, 100.0)
    world.process(190)
    world.clock.set(world.at(196))
    first = loyalty.redeem(world.uow, "c1", "ten_off", key="r1", clock=world.clock)
    second = loyalty.redeem(world.uow, "c1", "thirty", key="r2", clock=world.clock)
    assert (first.lots, second.lots, second.available) == ((("order:a", 100),), (("order:b", 30),), 70)
    world.process(366)  # a expired on day 365 with nothing left: nothing to write off
    assert world.count("loyalty_entries", kind="expire") == 0
    assert world.member("c1", 366).balance == 70  # all-time debits (130) against unexpired credits would say 0
    world.process(600)
    assert world.rows("c1")[-1] == ("expire:order:b", "expire", -70, 0)
    assert world.member("c1", 600).balance == 0


def test_bonuses_for_surveys_registrations_and_reviews(world) -> None:
    from aftersales.services.operational import resources

    world.apply()
    world.customer("c1")
    resources.create(world.uow, "survey-responses", {"response_id": "s1", "dimension": "overall", "survey_id": "nps",
                     "customer_id": "c1", "kind": "nps", "score": 9, "responded_at": world.at(3)})  # fmt: skip
    resources.create(world.uow, "survey-responses", {"response_id": "s1", "dimension": "shipping", "survey_id": "nps",
                     "customer_id": "c1", "kind": "csat", "score": 4, "responded_at": world.at(3)})  # fmt: skip
    resources.create(world.uow, "product-registrations", {"registration_id": "g1", "customer_id": "c1",
                     "product_id": "p-bike", "registered_at": world.at(4)})  # fmt: skip
    _event(world, "e1", "c1", "review_written", 5)
    _event(world, "e2", "nobody", "review_written", 5)  # an unknown customer earns nothing and breaks nothing
    report = world.process(6)
    assert report.members == 1
    assert world.rows("c1") == [("bonus:survey_answered:s1", "earn", 20, 0),
                                ("bonus:product_registered:g1", "earn", 100, 0),
                                ("bonus:review_written:e1", "earn", 50, 0)]  # fmt: skip
    assert world.member("c1").available == 170
    assert world.process(7).entries == 0


def _event(world, event_id: str, customer: str, name: str, day: float) -> None:
    with world.uow() as u:
        u.events.insert_new([(event_id, customer, None, name, world.at(day), None)])


def test_tier_up_and_down_with_recorded_changes_and_events(world) -> None:
    world.apply()
    world.customer("c1")
    world.order("a", "c1", 0, 600.0)
    world.order("b", "c1", 100, 500.0)
    world.order("c", "c1", 152, 100.0)
    world.process(120)
    assert [(t.tier, t.previous_tier, t.qualifying_points) for t in _changes(world, "c1")] == [
        ("silver", "member", 1100)
    ]
    m = world.member("c1", 120)
    assert (m.tier.name, m.tier.window_points, m.tier.next_tier) == ("silver", 1100, None)
    world.process(500)
    changes = _changes(world, "c1")
    assert [(t.changed_at, t.tier) for t in changes] == [(world.at(100), "silver"), (world.at(365), "member")]
    assert ("order:c", "earn", 150, 0) in world.rows("c1")  # earned at silver
    assert [e for e, _ in world.events("loyalty.tier_changed")] == [
        f"loyalty:tier:c1:{world.at(100).isoformat()}", f"loyalty:tier:c1:{world.at(365).isoformat()}"]  # fmt: skip
    assert world.process(500).events == 0
    with world.uow() as u:
        assert u.loyalty.member("c1").tier == "member"  # type: ignore[union-attr]


def _changes(world, member_id: str):
    with world.uow() as u:
        return u.loyalty.tier_changes(member_id)


def test_points_expiring_soon_are_announced_once_per_lot(world) -> None:
    world.apply()
    world.customer("c1")
    world.order("a", "c1", 0, 100.0)
    world.process(334)  # the lot expires on day 365: not yet within 30 days
    assert world.events("loyalty.points_expiring") == []
    world.process(336)
    assert world.events("loyalty.points_expiring") == [("loyalty:expiring:c1:order:a", "c1")]
    world.process(340)
    assert len(world.events("loyalty.points_expiring")) == 1
    assert world.member("c1", 340).expiring_soon == 100
