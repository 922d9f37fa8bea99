"""Program versions, awards and redemptions on SQLite and PostgreSQL: idempotent retries of every
write, refusals that write nothing, member-only rewards."""

from __future__ import annotations

import pytest

from aftersales.core.errors import ConflictError, NotFoundError, ValidationError
from aftersales.core.loyalty import InsufficientPoints
from aftersales.services.operational import loyalty


def test_apply_creates_then_is_unchanged_then_versions(world) -> None:
    first = world.apply()
    assert (first.status, first.program.version, first.program.name) == ("created", 1, "rewards")
    again = world.apply()
    assert (again.status, again.program.version, again.program.digest) == ("unchanged", 1, first.program.digest)
    changed = world.apply({**first.program.document, "lock": {"return_window_days": 14}})
    assert (changed.status, changed.program.version) == ("updated", 2)
    assert loyalty.current_program(world.uow).document["lock"] == {"return_window_days": 14}
    assert world.count("loyalty_programs") == 2


def test_a_bad_program_names_its_paths_and_writes_nothing(world) -> None:
    with pytest.raises(ValidationError) as caught:
        world.apply({"tiers": {"levels": [{"name": "a", "min_points": 3}]}, "rewards": [{"id": "x"}]})
    assert [e.loc for e in caught.value.errors] == [
        ("tiers", "levels", 0, "min_points"), ("rewards", 0, "points"), ("rewards", 0, "kind")]  # fmt: skip
    assert world.count("loyalty_programs") == 0
    with pytest.raises(ValidationError, match=r"p.yaml:3:1: not valid YAML"):
        loyalty.load_program_text("name: x\nearn: [1\n", "p.yaml")
    with pytest.raises(ValidationError, match="repeated"):
        loyalty.load_program_text("name: x\nname: y\n", "p.yaml")


def _earned(world, points: float = 500.0) -> None:
    world.apply()
    world.customer("c1")
    world.customer("c2")
    world.order("o1", "c1", 0, points)
    world.process(31)
    world.clock.set(world.at(40))


def test_a_redemption_retried_with_its_key_is_written_once(world) -> None:
    _earned(world)
    first = loyalty.redeem(world.uow, "c1", "ten_off", key="k1", quantity=2, clock=world.clock)
    assert (first.points, first.lots, first.available, first.replayed) == (200, (("order:o1", 200),), 300, False)
    again = loyalty.redeem(world.uow, "c1", "ten_off", key="k1", quantity=2, clock=world.clock)
    assert (again.redemption_id, again.points, again.lots, again.available, again.replayed) == (
        first.redemption_id, 200, (("order:o1", 200),), 300, True)  # fmt: skip
    assert world.count("loyalty_redemptions") == 1 and world.count("loyalty_entries", kind="redeem") == 1
    with pytest.raises(ConflictError, match="was used for another redemption"):
        loyalty.redeem(world.uow, "c1", "thirty", key="k1", clock=world.clock)
    with pytest.raises(ConflictError, match="was used for another redemption"):
        loyalty.redeem(world.uow, "c2", "ten_off", key="k1", quantity=2, clock=world.clock)


def test_refused_redemptions_write_nothing(world) -> None:
    _earned(world)
    with pytest.raises(InsufficientPoints, match="500 available, 600 needed"):
        loyalty.redeem(world.uow, "c1", "ten_off", key="k2", quantity=6, clock=world.clock)
    with pytest.raises(NotFoundError, match="no reward 'nope'"):
        loyalty.redeem(world.uow, "c1", "nope", key="k3", clock=world.clock)
    with pytest.raises(ConflictError, match="for silver members and above"):
        loyalty.redeem(world.uow, "c1", "vip_gift", key="k4", clock=world.clock)
    with pytest.raises(NotFoundError, match="no customer 'ghost'"):
        loyalty.redeem(world.uow, "ghost", "ten_off", key="k5", clock=world.clock)
    with pytest.raises(InsufficientPoints):
        loyalty.redeem(world.uow, "c2", "ten_off", key="k6", clock=world.clock)
    assert world.count("loyalty_redemptions") == 0 and world.count("loyalty_entries", kind="redeem") == 0
    assert world.count("loyalty_members") == 1  # c2's member row went with its refused redemption
    with pytest.raises(ValidationError, match="key must be"):
        loyalty.redeem(world.uow, "c1", "ten_off", key="", clock=world.clock)


def test_a_member_only_reward_once_the_tier_is_reached(world) -> None:
    _earned(world, 1200.0)
    made = loyalty.redeem(world.uow, "c1", "vip_gift", key="vip", clock=world.clock)
    assert made.points == 50 and made.reward_name == "gift"


def test_awards_and_deductions_are_idempotent_by_key(world) -> None:
    _earned(world)
    gift = loyalty.adjust(world.uow, "c2", 75, key="welcome", reason="welcome gift", clock=world.clock)
    assert (gift.points, gift.lots, gift.available, gift.replayed) == (75, (("adjust:welcome", 75),), 75, False)
    again = loyalty.adjust(world.uow, "c2", 75, key="welcome", reason="welcome gift", clock=world.clock)
    assert (again.lots, again.available, again.replayed) == (gift.lots, 75, True)
    with pytest.raises(ConflictError, match="was used for an adjustment of 75 points"):
        loyalty.adjust(world.uow, "c2", 80, key="welcome", clock=world.clock)
    taken = loyalty.adjust(world.uow, "c2", -25, key="fix", clock=world.clock)
    assert (taken.lots, taken.available) == ((("adjust:welcome", -25),), 50)
    with pytest.raises(InsufficientPoints):
        loyalty.adjust(world.uow, "c2", -51, key="too-much", clock=world.clock)
    assert world.rows("c2") == [("adjust:welcome", "adjust", 75, 0), ("adjust:fix", "adjust", -25, 0)]
    m = world.member("c2")
    assert (m.balance, m.lots[0].expires_at) == (50, world.at(40 + 365))
    page = loyalty.history_page(world.uow, "c2", limit=1)
    assert [i["key"] for i in page["items"]] == ["adjust:fix"] and page["next_cursor"]
    rest = loyalty.history_page(world.uow, "c2", limit=5, cursor=page["next_cursor"])
    assert [(i["key"], i["detail"]) for i in rest["items"]] == [("adjust:welcome", {"reason": "welcome gift"})]
    assert rest["next_cursor"] is None
    with pytest.raises(NotFoundError):
        loyalty.member(world.uow, "c9", clock=world.clock)


def test_the_liability_report(world) -> None:
    _earned(world)  # c1: 500 earned and released on day 30
    world.order("o2", "c1", 35, 80.0)  # locked until day 65
    world.process(40)
    loyalty.redeem(world.uow, "c1", "ten_off", key="k", clock=world.clock)
    loyalty.adjust(world.uow, "c2", 20, key="g", clock=world.clock)
    r = loyalty.report(world.uow, clock=world.clock)
    assert (r.members, r.points_held, r.points_locked, r.points_available) == (2, 500, 80, 420)
    assert (r.points_issued, r.points_redeemed, r.points_expired, r.pending_expiry) == (600, 100, 0, 0)
    assert (str(r.liability), str(r.liability_available), r.redemption_rate, r.breakage) == ("5.00", "4.20", 1 / 6, 0.0)
    assert r.tiers == {"member": 2, "silver": 0}
    assert r.redemptions == [{"reward_id": "ten_off", "redemptions": 1, "points": 100}]
    world.clock.set(world.at(399))  # o1's lot (400 left) expired on day 365, not yet written off
    late = loyalty.report(world.uow, clock=world.clock)
    assert (late.pending_expiry, late.points_held) == (400, 100)
    world.process(399)
    after = loyalty.report(world.uow, clock=world.clock)
    assert (after.pending_expiry, after.points_held, after.points_expired) == (0, 100, 400)
    assert after.breakage == 400 / 600


def test_rows_written_twice_fail_loudly_instead_of_landing_twice(world) -> None:
    """Writers decide under the member's lock; a row whose key is stored (a writer that lost its
    lock) fails the transaction instead of being added again or skipped silently."""
    _earned(world)
    with world.uow() as u:
        rows = u.loyalty.entries(["c1"])["c1"]
    for batch in (rows[:1], rows * 40):  # one INSERT, and a COPY on PostgreSQL
        with pytest.raises(ConflictError, match="written at the same time"), world.uow() as u:
            u.loyalty.add_entries(batch, 1, world.clock.now())
    assert world.count("loyalty_entries") == len(rows)
