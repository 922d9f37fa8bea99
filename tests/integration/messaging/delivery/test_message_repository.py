"""The message repository on SQLite and PostgreSQL: claims and leases, the status transitions that
name the lease's token, unknown outcomes, suppressions, pacing compare-and-set, secrets, counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aftersales.services.operational.messaging.pacing import reserve_slots
from aftersales.services.ports_messages import MessageFilter, SuppressionRecord

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # the seed's time (conftest)


def test_claim_leases_due_rows_once_and_skips_later_and_leased_ones(seed: Any) -> None:
    for c in ("c1", "c2", "c3"):
        seed.customer(c)
    due = [seed.message("c1"), seed.message("c2")]
    later = seed.message("c3", not_before=T0 + timedelta(hours=1))
    with seed.uow() as u:
        got = u.messages.claim_due(T0, 10, token="a", lease_until=T0 + timedelta(minutes=5), channels=("email",))
    assert {m.message_id for m in got} == {m.message_id for m in due}
    assert all(m.status == "queued" for m in got)
    with seed.uow() as u:  # leased: nobody else gets them while the lease holds
        assert u.messages.claim_due(T0, 10, token="b", lease_until=T0, channels=("email",)) == []
        assert u.messages.claim_due(T0, 10, token="b", lease_until=T0, channels=("webhook",)) == []
    with seed.uow() as u:  # the lease ran out before anything was attempted: claimable again
        again = u.messages.claim_due(
            T0 + timedelta(minutes=6), 10, token="c", lease_until=T0 + timedelta(hours=2), channels=("email",)
        )
    assert {m.message_id for m in again} == {m.message_id for m in due}
    with seed.uow() as u:  # the later one when it comes due
        at = T0 + timedelta(hours=1)
        assert [m.message_id for m in u.messages.claim_due(at, 10, token="d", lease_until=at, channels=("email",))] == [
            later.message_id
        ]


def test_transitions_need_the_token_and_sending_rows_become_unknown(seed: Any) -> None:
    seed.customer("c1")
    m = seed.message("c1")
    with seed.uow() as u:
        u.messages.claim_due(T0, 1, token="a", lease_until=T0 + timedelta(minutes=5), channels=("email",))
        assert not u.messages.start_sending(m.message_id, "b", T0, T0 + timedelta(minutes=5), "<x@y>")
        assert u.messages.start_sending(m.message_id, "a", T0, T0 + timedelta(minutes=5), "<x@y>")
        assert not u.messages.start_sending(m.message_id, "a", T0, T0 + timedelta(minutes=5), "<x@y>")
    sending = seed.get(m.message_id)
    assert (sending.status, sending.attempts, sending.started_at, sending.rfc_message_id) == ("sending", 1, T0, "<x@y>")
    with seed.uow() as u:  # a sending row is never claimed again, even after its lease
        late = T0 + timedelta(hours=1)
        assert u.messages.claim_due(late, 10, token="z", lease_until=late, channels=("email",)) == []
        assert u.messages.expire_sending(T0 + timedelta(minutes=1), "x") == []  # lease still holds
        expired = u.messages.expire_sending(late, "outcome unknown")
    assert [(e.message_id, e.status, e.detail) for e in expired] == [(m.message_id, "unknown", "outcome unknown")]
    with seed.uow() as u:  # the holder learns the outcome after all: recorded
        assert u.messages.finish_attempt(m.message_id, "a", "sent", T0 + timedelta(hours=2), None)
    assert seed.get(m.message_id).status == "sent"


def test_defer_retry_and_cancel(seed: Any) -> None:
    seed.customer("c1")
    m = seed.message("c1")
    until = T0 + timedelta(minutes=5)
    with seed.uow() as u:
        u.messages.claim_due(T0, 1, token="a", lease_until=until, channels=("email",))
        assert u.messages.defer(m.message_id, "a", T0 + timedelta(hours=9), "quiet hours")
    d = seed.get(m.message_id)
    assert (d.status, d.not_before, d.detail) == ("queued", T0 + timedelta(hours=9), "quiet hours")
    later = T0 + timedelta(hours=9)
    with seed.uow() as u:
        u.messages.claim_due(later, 1, token="b", lease_until=later + timedelta(minutes=5), channels=("email",))
        u.messages.start_sending(m.message_id, "b", later, later + timedelta(minutes=5), None)
        assert u.messages.retry_attempt(m.message_id, "b", later + timedelta(minutes=1), "451 try later")
        assert u.messages.cancel_queued(enrollment_ids=[m.enrollment_id], at=later, reason="exited") == 1
    c = seed.get(m.message_id)
    assert (c.status, c.attempts, c.detail) == ("cancelled", 1, "exited")


def test_paused_journeys_messages_wait(seed: Any) -> None:
    seed.customer("c1")
    m = seed.message("c1")
    seed.set_journey_status(m.journey_id, "paused")
    with seed.uow() as u:
        assert u.messages.claim_due(T0, 5, token="a", lease_until=T0, channels=("email",)) == []
    seed.set_journey_status(m.journey_id, "active")
    with seed.uow() as u:
        assert len(u.messages.claim_due(T0, 5, token="a", lease_until=T0, channels=("email",))) == 1


def test_recipients_triggers_and_recent_starts(seed: Any) -> None:
    seed.customer("c1", timezone="Europe/Berlin", locale="de_CH")
    m = seed.message("c1", trigger={"order_id": "o-9"})
    with seed.uow() as u:
        r = u.messages.recipients(["c1", "nobody"])
        assert set(r) == {"c1"}
        assert (r["c1"].email, r["c1"].timezone, r["c1"].locale, r["c1"].profile) == (
            "c1@example.com", "Europe/Berlin", "de_CH", {},
        )  # fmt: skip
        assert u.messages.triggers([m.enrollment_id]) == {m.enrollment_id: {"order_id": "o-9"}}
        u.messages.claim_due(T0, 1, token="a", lease_until=T0 + timedelta(minutes=1), channels=("email",))
        u.messages.start_sending(m.message_id, "a", T0, T0 + timedelta(minutes=1), None)
        starts = u.messages.recent_starts(["c1"], channel="email", category="marketing", since=T0 - timedelta(days=7))
        assert starts == {"c1": [T0]}
        assert u.messages.recent_starts(["c1"], channel="email", category="marketing", since=T0 + timedelta(1)) == {}


def test_suppressions_insert_once_replace_list_and_remove(seed: Any) -> None:
    seed.customer("c1")
    seed.customer("c2")
    first = SuppressionRecord("c1", "email", "*", "unsubscribed", T0)
    with seed.uow() as u:
        assert u.messages.add_suppression(first)
        assert not u.messages.add_suppression(first)
        u.messages.add_suppression(SuppressionRecord("c2", "email", "!hard_bounce", "hard_bounce", T0, "h1"))
        assert u.messages.add_suppression(
            SuppressionRecord("c2", "email", "!hard_bounce", "hard_bounce", T0, "h2"), replace=True
        )
        assert [s.address_hash for s in u.messages.suppressions_of(["c2"], "email")] == ["h2"]
        page1 = u.messages.list_suppressions(customer_id=None, channel=None, after=None, limit=1)
        page2 = u.messages.list_suppressions(customer_id=None, channel=None, after=("c1", "email", "*"), limit=5)
        assert [(s.customer_id, s.topic) for s in page1 + page2] == [("c1", "*"), ("c2", "!hard_bounce")]
        removed = u.messages.remove_suppression("c1", "email", "*")
        assert removed is not None and removed.reason == "unsubscribed"
        assert u.messages.remove_suppression("c1", "email", "*") is None


def test_pacing_compare_and_set_and_secrets(seed: Any) -> None:
    with seed.uow() as u:
        assert u.messages.pacing_slot("email:smtp") is None
        assert reserve_slots(u.messages, "email:smtp", T0, 12, 5.0) == (5, T0 + timedelta(seconds=1))
        assert reserve_slots(u.messages, "email:smtp", T0, 12, 5.0) == (0, T0 + timedelta(seconds=1))
        assert not u.messages.move_pacing("email:smtp", T0, T0)  # a stale expectation loses
        assert u.messages.add_secret_if_absent("k", "first", T0) == "first"
        assert u.messages.add_secret_if_absent("k", "second", T0) == "first"
        assert u.messages.secret("k") == "first"


def test_counts_pages_and_topics(seed: Any) -> None:
    seed.customer("c1")
    a = seed.message("c1", "a")
    seed.message("c1", "b", not_before=T0 + timedelta(hours=2), topic="tips")
    with seed.uow() as u:
        u.messages.claim_due(T0, 1, token="t", lease_until=T0 + timedelta(minutes=1), channels=("email",))
        u.messages.start_sending(a.message_id, "t", T0, T0 + timedelta(minutes=1), None)
        u.messages.finish_attempt(a.message_id, "t", "sent", T0 + timedelta(seconds=1), None)
        counts = {(c.status, c.due): (c.count, c.started) for c in u.messages.status_counts(None, T0)}
        assert counts == {("sent", None): (1, 1), ("queued", False): (1, 0)}
        assert u.messages.finished_between(None, "sent", T0, T0 + timedelta(seconds=2)) == (
            1, T0 + timedelta(seconds=1),
        )  # fmt: skip
        assert u.messages.latest_not_before(None) == T0 + timedelta(hours=2)
        assert u.messages.topics("c1", "email") == ["post_purchase", "tips"]
        ids = [m.message_id for m in u.messages.page(MessageFilter(customer_id="c1"), after=None, limit=10)]
        assert ids == sorted(ids) and len(ids) == 2
        assert u.messages.page(MessageFilter(status="sent"), after=None, limit=10)[0].message_id == a.message_id
