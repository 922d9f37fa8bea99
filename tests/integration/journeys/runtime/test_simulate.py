"""``simulate`` on the real store (SQLite and PostgreSQL): it writes nothing, and replaying a period
it predicts exactly the messages (who, which step, when) that the worker then queues over that
period; a preview from now continues the journey's running enrollments."""

from __future__ import annotations

from datetime import timedelta

from aftersales.services.clock import ManualClock
from aftersales.services.operational.journeys import definitions
from aftersales.services.operational.journeys.simulate import simulate

from .conftest import T0, days, run_until, worker
from .test_worker_clock import DEFAULT_ZONE, DOC, ZONES


def _store(store, n: int = 30) -> tuple[list[str], dict[str, object]]:
    ids = [f"c{i:02d}" for i in range(n)]
    for i, c in enumerate(ids):
        store.customers([c], timezone=ZONES[i % 3])
    delivered = {c: T0 + timedelta(hours=5 * i + 1) for i, c in enumerate(ids)}
    store.orders(
        [
            {"order_id": f"o-{c}", "customer_id": c, "ordered_at": T0 - days(3), "delivered_at": delivered[c],
             "channel": "store" if c == "c05" else "web"}
            for c in ids
        ]
        + [{"order_id": "o-c02-2", "customer_id": "c02", "ordered_at": delivered["c02"] + days(1), "status": "placed"}]
    )  # fmt: skip
    store.events(
        [
            {
                "event_id": "r1",
                "customer_id": "c04",
                "name": "review.submitted",
                "occurred_at": delivered["c04"] + days(6),
            }
        ]
    )
    return ids, delivered


def test_simulate_writes_nothing_and_predicts_the_worker(store) -> None:
    ids, delivered = _store(store)
    clock = ManualClock(T0)
    definitions.apply(store.uow, DOC, clock=clock)
    before = store.counts()
    sim = simulate(store.uow, "post-purchase", 90, start_at=T0, default_zone=DEFAULT_ZONE, sample=10_000)
    assert store.counts() == before  # nothing written

    run_until(
        worker(store, clock, default_timezone=DEFAULT_ZONE),
        clock,
        store,
        T0 + days(90),
        facts=[*delivered.values(), delivered["c02"] + days(1), delivered["c04"] + days(6)],  # type: ignore[list-item]
    )
    real = {(m["customer_id"], m["step_id"], m["created_at"]) for m in store.messages()}
    predicted = {(e.customer_id, e.step_id, e.at) for e in sim.sample}
    assert predicted == real and sim.effects == len(real) > 0
    rows = store.enrollments()
    assert sim.candidates == len(ids) - 1  # c05's order is not from the web
    assert (sim.enrolled, sim.held_out) == (
        sum(e["arm"] == "journey" for e in rows),
        sum(e["arm"] == "holdout" for e in rows),
    )
    assert sim.completed == sum(e["status"] == "completed" for e in rows)
    assert sum(sim.per_step.values()) == sim.effects
    assert sum(n for day in sim.per_day.values() for n in day.values()) == sim.effects


def test_a_preview_from_now_continues_running_enrollments(store) -> None:
    _, delivered = _store(store, 6)
    clock = ManualClock(T0)
    definitions.apply(store.uow, DOC, clock=clock)
    w = worker(store, clock, default_timezone=DEFAULT_ZONE)
    run_until(w, clock, store, T0 + days(2), facts=list(delivered.values()))  # type: ignore[arg-type]
    running = [e for e in store.enrollments() if e["status"] == "active"]
    assert running
    before = store.counts()
    sim = simulate(store.uow, "post-purchase", 30, start_at=clock.now(), default_zone=DEFAULT_ZONE, sample=100)
    replay = simulate(store.uow, "post-purchase", 1, start_at=T0, now=clock.now(), default_zone=DEFAULT_ZONE)
    assert store.counts() == before
    assert (sim.continued, sim.enrolled) == (len(running), 0)
    assert "facts after now are unknown" in " ".join(sim.notes)
    assert "facts after now are unknown" not in " ".join(replay.notes)  # a replay inside the known past
    waiting = {e["customer_id"] for e in running}
    # c02 ordered again a day after entry: it leaves on the goal when it next wakes, before "thanks"
    assert {e.customer_id for e in sim.sample if e.step_id == "thanks"} == waiting - {"c02"}
    assert sim.exited == ({"goal": 1} if "c02" in waiting else {})
