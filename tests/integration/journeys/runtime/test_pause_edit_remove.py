"""Pause, edit, resume, remove and archive while enrollments run (SQLite and PostgreSQL): no step is
repeated, a paused journey neither enrolls nor advances (even one paused between a worker's claim and
its write), an edit applies to enrollments already waiting, a removed step ends them, and removed or
archived customers get nothing more. Also the holdout share of a segment start."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import insert, update

from aftersales.adapters.sql.journey_tables import suppressions
from aftersales.adapters.sql.segment_tables import segment_memberships
from aftersales.core.experiments.assignment import HoldoutGroup
from aftersales.services.clock import ManualClock
from aftersales.services.operational.journeys import definitions
from aftersales.services.operational.journeys.advance import advance_due
from aftersales.services.operational.journeys.enroll import enroll_segment
from aftersales.services.operational.journeys.enrollments import enrollments_page, remove

from .conftest import T0, days, worker

THREE = {
    "name": "three",
    "trigger": {"event": "order.placed"},
    "audience": "everyone",
    "holdout": 0,
    "exit": {"on_goal": False},
    "steps": [
        {"id": "a", "type": "email", "template": "a"},
        {"id": "w1", "type": "wait", "duration": "1d"},
        {"id": "b", "type": "email", "template": "b"},
        {"id": "w2", "type": "wait", "duration": "1d"},
        {"id": "c", "type": "email", "template": "c"},
    ],
}


def _sent(store) -> Counter[tuple[str, str]]:
    return Counter((m["customer_id"], m["step_id"]) for m in store.messages())


def test_pause_edit_resume_remove_archive(store) -> None:
    ids = [f"c{i:02d}" for i in range(10)]
    store.customers(ids)
    store.segment("everyone", ids)
    clock = ManualClock(T0)
    definitions.apply(store.uow, THREE, clock=clock)
    enroll_segment(store.uow, "three", T0)
    w = worker(store, clock)
    w.run_once()
    assert _sent(store) == Counter({(c, "a"): 1 for c in ids})

    definitions.pause(store.uow, "three", clock=clock)
    clock.set(T0 + days(1.5))
    store.orders([{"order_id": "late", "customer_id": "c01", "ordered_at": T0 + days(1)}])  # while paused
    paused = w.run_once()
    assert (paused.enrolled, paused.advanced.advanced) == (0, 0) and len(_sent(store)) == 10

    removed = next(e for e in store.enrollments() if e["customer_id"] == "c00")
    out = remove(store.uow, "three", removed["enrollment_id"], clock.now())
    assert (out.status, out.exit_reason) == ("exited", "removed")
    assert [m["status"] for m in store.messages() if m["customer_id"] == "c00"] == ["cancelled"]

    edited = {**THREE, "steps": [dict(s) for s in THREE["steps"]]}
    edited["steps"][1]["duration"] = "2d"  # applies to the enrollments waiting at w1
    edited["steps"][2]["template"] = "b2"
    assert definitions.apply(store.uow, edited, clock=clock).outcome == "changed"
    definitions.resume(store.uow, "three", clock=clock)
    resumed = w.run_once()  # the order placed while paused enrolls nobody; waits recomputed under 2d
    assert (resumed.enrolled, resumed.advanced.advanced, resumed.advanced.messages) == (0, 9, 0)
    assert {e["wake_at"] for e in store.enrollments() if e["status"] == "active"} == {T0 + days(2)}
    clock.set(T0 + days(2))
    assert w.run_once().advanced.messages == 9
    assert w.run_once().advanced.advanced == 0
    sent = _sent(store)
    assert sent == Counter({**{(c, "a"): 1 for c in ids}, **{(c, "b"): 1 for c in ids[1:]}})
    b = [m for m in store.messages() if m["step_id"] == "b"]
    assert all('"template": "b2"' in m["params_json"] and m["created_at"] == T0 + days(2) for m in b)

    archived = definitions.archive(store.uow, "three", clock=clock)
    assert (archived.enrollments_ended, archived.messages_cancelled) == (9, 18)  # no sender ran: a and b queued
    clock.set(T0 + days(10))
    assert w.run_once().advanced.advanced == 0
    assert _sent(store) == sent  # nothing more
    assert {e["exit_reason"] for e in store.enrollments()} == {"removed", "journey archived"}
    page = enrollments_page(store.uow, "three", status="exited", limit=4)
    assert len(page["items"]) == 4 and page["next_cursor"] is not None
    rest = enrollments_page(store.uow, "three", status="exited", limit=100, cursor=page["next_cursor"])
    assert len(rest["items"]) == 6 and rest["next_cursor"] is None


def test_an_edit_that_removes_the_waiting_step_ends_the_enrollment(store) -> None:
    store.segment("everyone", ["c1", "c2"])
    clock = ManualClock(T0)
    definitions.apply(store.uow, THREE, clock=clock)
    enroll_segment(store.uow, "three", T0)
    w = worker(store, clock)
    w.run_once()
    shorter = {**THREE, "steps": [THREE["steps"][0], THREE["steps"][3], THREE["steps"][4]]}  # w1 gone
    definitions.apply(store.uow, shorter, clock=clock)
    clock.set(T0 + days(1))
    w.run_once()
    assert {(e["status"], e["exit_reason"]) for e in store.enrollments()} == {("exited", "step removed")}
    assert sorted(s for _, s in _sent(store)) == ["a", "a"]


def test_a_journey_paused_between_claim_and_write_advances_nothing(store) -> None:
    store.segment("everyone", ["c1", "c2", "c3"])
    clock = ManualClock(T0)
    journey_id = definitions.apply(store.uow, THREE, clock=clock).journey.journey_id
    enroll_segment(store.uow, "three", T0)
    calls = []

    def uow():  # the second transaction of the batch (its write) starts after a pause committed
        calls.append(1)
        if len(calls) == 2:
            definitions.pause(store.uow, "three", clock=clock)
        return store.uow()

    done = advance_due(uow, [journey_id], T0)
    assert (done.claimed, done.advanced, done.released) == (3, 0, 3)
    assert store.messages() == []
    definitions.resume(store.uow, "three", clock=clock)
    assert advance_due(store.uow, [journey_id], T0).advanced == 3  # released, not leased: due at once


def test_holdout_share_of_a_segment_start(store) -> None:
    ids = [f"c{i:05d}" for i in range(4000)]
    store.segment("everyone", ids)
    clock = ManualClock(T0)
    doc = {**THREE, "holdout": 0.1}
    salt = definitions.apply(store.uow, doc, clock=clock).journey.salt
    entered = enroll_segment(store.uow, "three", T0)
    expected = HoldoutGroup("three", 0.1, salt).contains_many(ids)
    assert entered.held_out == int(expected.sum()) and entered.enrolled == 4000 - entered.held_out
    assert abs(entered.held_out / 4000 - 0.1) < 0.02
    held = {e["customer_id"] for e in store.enrollments() if e["status"] == "held_out"}
    assert held == {c for c, h in zip(ids, expected, strict=True) if h}
    again = enroll_segment(store.uow, "three", T0 + timedelta(hours=1))  # the same start: nobody twice
    assert (again.enrolled, again.held_out, again.skipped) == (0, 0, 4000)
    worker(store, clock).run_once()
    assert {m["customer_id"] for m in store.messages()}.isdisjoint(held)  # held-out customers get nothing


def test_unsubscribing_or_leaving_the_audience_ends_the_enrollment(store) -> None:
    store.segment("everyone", ["stay", "unsub", "gone"])
    clock = ManualClock(T0)
    definitions.apply(store.uow, {**THREE, "exit": {"on_goal": False, "left_segment": True}}, clock=clock)
    enroll_segment(store.uow, "three", T0)
    w = worker(store, clock)
    w.run_once()
    with store.engine.begin() as conn:
        conn.execute(
            insert(suppressions).values(
                customer_id="unsub", channel="email", topic="three", reason="unsubscribed", created_at=T0
            )
        )
        conn.execute(
            update(segment_memberships)
            .where(segment_memberships.c.customer_id == "gone")
            .values(exited_at=T0 + timedelta(hours=1))
        )
    clock.set(T0 + days(1))
    w.run_once()
    ended = {e["customer_id"]: (e["status"], e["exit_reason"]) for e in store.enrollments()}
    assert ended == {
        "stay": ("active", None),
        "unsub": ("exited", "unsubscribed"),
        "gone": ("exited", "left segment"),
    }
    assert sorted(c for c, s in _sent(store) if s == "b") == ["stay"]
