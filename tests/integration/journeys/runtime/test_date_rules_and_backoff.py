"""Date-rule triggers through the worker (a profile date, no order for N days, subscription renewals;
each due date once, re-entry as the journey says), and a worker that outlives an unreachable store:
it backs off, logs one line when it stops and one when it recovers, and loses nothing (SQLite and
PostgreSQL)."""

from __future__ import annotations

import logging
import threading
from datetime import date
from typing import Any

from sqlalchemy import insert, update

from aftersales.adapters.sql.profile_tables import customer_profiles
from aftersales.adapters.sql.tables import TABLES
from aftersales.services.clock import ManualClock
from aftersales.services.operational.journeys import definitions
from aftersales.services.operational.journeys.enroll import enroll_segment
from aftersales.services.operational.journeys.worker import Worker, WorkerOptions

from .conftest import T0, days, worker


def _journey(name: str, date_rule: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "name": name,
        "trigger": {"date": date_rule},
        "holdout": 0,
        "exit": {"on_goal": False},
        "steps": [{"id": "remind", "type": "email", "template": "maintenance-reminder"}],
        **more,
    }


def _profiles(store, rows: list[dict[str, Any]]) -> None:
    with store.engine.begin() as conn:
        conn.execute(insert(customer_profiles), [{"refreshed_at": T0, **r} for r in rows])


def _reminded(store, journey_id: str) -> list[tuple[str, Any]]:
    return sorted((m["customer_id"], m["created_at"]) for m in store.messages() if m["journey_id"] == journey_id)


def test_profile_date_rules_enroll_each_due_date_once(store) -> None:
    store.customers(["a", "b", "c"])
    _profiles(
        store,
        [
            {"customer_id": "a", "next_maintenance_due_on": date(2026, 3, 10)},  # due 2026-03-03 00:00 UTC
            {"customer_id": "b", "next_maintenance_due_on": date(2026, 4, 1)},  # due 2026-03-25
            {"customer_id": "c", "next_maintenance_due_on": None},
        ],
    )
    clock = ManualClock(T0)
    doc = _journey("maintenance", {"field": "next_maintenance_due_on", "offset": "-7d"}, reentry="always")
    journey_id = definitions.apply(store.uow, doc, clock=clock).journey.journey_id
    w = worker(store, clock)
    for _ in range(40):  # a round a day for 40 days
        w.run_once()
        clock.advance(days(1))
    got = _reminded(store, journey_id)
    assert [c for c, _ in got] == ["a", "b"]  # each due date once, c has none
    assert got[0][1] == T0 + days(1) and got[1][1] == T0 + days(23)  # the first round at or after the due time
    # A new maintenance date is a new due date: the customer enrolls again (re-entry "always").
    with store.engine.begin() as conn:
        conn.execute(
            update(customer_profiles)
            .where(customer_profiles.c.customer_id == "a")
            .values(next_maintenance_due_on=(clock.now() + days(10)).date())
        )
    for _ in range(10):
        w.run_once()
        clock.advance(days(1))
    assert [c for c, _ in _reminded(store, journey_id)] == ["a", "a", "b"]


def test_no_order_for_and_subscription_renewals(store) -> None:
    store.customers(["quiet", "busy", "sub"])
    _profiles(
        store,
        [
            {"customer_id": "quiet", "last_order_at": T0 - days(119)},
            {"customer_id": "busy", "last_order_at": T0 - days(5)},
        ],
    )
    with store.engine.begin() as conn:
        conn.execute(
            insert(TABLES["subscriptions"]),
            [{"subscription_id": "s1", "customer_id": "sub", "plan": "beans", "status": "active",
              "started_at": T0 - days(20), "cancelled_at": None, "cancel_reason": None}],
        )  # fmt: skip
    clock = ManualClock(T0)
    quiet = definitions.apply(store.uow, _journey("win-back", {"rule": "no_order_for", "days": 120}), clock=clock)
    renew = definitions.apply(
        store.uow,
        _journey("renewal", {"rule": "subscription_renewal", "offset": "-7d", "cycle": "month"}, reentry="always"),
        clock=clock,
    )
    w = worker(store, clock)
    for _ in range(70):
        w.run_once()
        clock.advance(days(1))
    assert [c for c, _ in _reminded(store, quiet.journey.journey_id)] == ["quiet"]
    renewals = _reminded(store, renew.journey.journey_id)
    # started 10 Feb 06:00: renews 10 Mar, 10 Apr, 10 May; 7 days before each, every one once
    assert renewals == [("sub", T0 + days(1)), ("sub", T0 + days(32)), ("sub", T0 + days(62))]
    rows = [e for e in store.enrollments() if e["journey_id"] == renew.journey.journey_id]
    assert len({e["trigger_key"] for e in rows}) == 3 and all(e["trigger_key"].startswith("date|sub|") for e in rows)


class _Flaky:
    """A unit-of-work factory whose store is unreachable for the first ``down`` transactions."""

    def __init__(self, real: Any, down: int) -> None:
        self.real, self.down, self.calls = real, down, 0

    def __call__(self) -> Any:
        self.calls += 1
        if self.calls <= self.down:
            raise ConnectionError("connection refused")
        return self.real()


def test_a_worker_backs_off_while_the_store_is_down_and_recovers(store, caplog) -> None:
    store.segment("everyone", ["c1", "c2"])
    clock = ManualClock(T0)
    definitions.apply(
        store.uow,
        {"name": "hello", "trigger": {"event": "never.happens"}, "audience": "everyone", "holdout": 0,
         "steps": [{"id": "hi", "type": "email", "template": "thank-you"}]},
        clock=clock,
    )  # fmt: skip
    enroll_segment(store.uow, "hello", T0)
    flaky = _Flaky(store.uow, down=4)
    w = Worker(flaky, clock, options=WorkerOptions(poll_s=0.01, max_backoff_s=0.05))
    stop = threading.Event()
    thread = threading.Thread(target=w.run_forever, args=(stop,))
    with caplog.at_level(logging.WARNING, logger="aftersales.journeys"):
        thread.start()
        try:
            for _ in range(3000):  # until both messages are queued (each round is milliseconds)
                if len(store.messages()) == 2:
                    break
                stop.wait(0.01)
        finally:
            stop.set()
            thread.join(30)
    assert len(store.messages()) == 2 and not thread.is_alive()
    lines = [r.getMessage() for r in caplog.records if r.name == "aftersales.journeys"]
    assert len([m for m in lines if "store unreachable" in m]) == 1
    assert any("resumed after 4 failed rounds" in m for m in lines)
