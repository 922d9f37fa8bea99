"""Several workers, and workers that die: a segment start shared by two workers (threads, each with
its own connections) advances every enrollment exactly once per due time; a worker that claimed and
died, a write that failed before its commit, and a worker process killed with SIGKILL lose no step
and write no message twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from aftersales.adapters.sql.journey_tables import journey_messages
from aftersales.services.clock import ManualClock
from aftersales.services.operational.journeys import definitions
from aftersales.services.operational.journeys.advance import Advanced, advance_due
from aftersales.services.operational.journeys.enroll import enroll_segment
from aftersales.services.operational.journeys.worker import Round

from .conftest import T0, days, run_until, worker

TWO_MAILS = {
    "name": "two-mails",
    "trigger": {"event": "never.happens"},
    "audience": "everyone",
    "holdout": 0,
    "steps": [
        {"id": "first", "type": "email", "template": "a", "category": "transactional"},
        {"id": "pause", "type": "wait", "duration": "1d"},
        {"id": "second", "type": "email", "template": "b", "category": "transactional"},
    ],
}


def _start(store, n: int, clock: ManualClock, doc: dict[str, Any] = TWO_MAILS) -> str:
    ids = [f"c{i:05d}" for i in range(n)]
    store.segment("everyone", ids)
    applied = definitions.apply(store.uow, doc, clock=clock)
    entered = enroll_segment(store.uow, doc["name"], clock.now())
    assert (entered.members, entered.enrolled, entered.held_out) == (n, n, 0)
    return applied.journey.journey_id


def _steps(store) -> Counter[tuple[str, str]]:
    return Counter((m["enrollment_id"], m["step_id"]) for m in store.messages())


def test_two_workers_share_the_work_and_advance_each_enrollment_once(store) -> None:
    n = 1200
    clock = ManualClock(T0)
    _start(store, n, clock)
    workers = [worker(store, clock, batch=50, max_batches=1_000) for _ in range(2)]

    def both() -> list[Round]:
        barrier, out, errors = threading.Barrier(2), [None, None], []

        def run(i: int) -> None:
            try:
                barrier.wait()
                out[i] = workers[i].run_once()
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        return out  # type: ignore[return-value]

    rounds = both()
    assert sum(r.advanced.advanced for r in rounds) == n  # every enrollment once, by one of them
    on_postgres = store.engine.dialect.name == "postgresql"
    if on_postgres:  # SKIP LOCKED: both took batches at the same time
        assert all(r.advanced.advanced > 0 for r in rounds)
    clock.advance(days(1))
    rounds = both()
    assert sum(r.advanced.advanced for r in rounds) == n
    assert sum(r.advanced.completed for r in rounds) == n
    steps = _steps(store)
    assert len(steps) == 2 * n and set(steps.values()) == {1}


def test_a_worker_that_claimed_and_died_loses_nothing(store) -> None:
    clock = ManualClock(T0)
    journey_id = _start(store, 30, clock)
    with store.uow() as u:  # a worker claims ten and dies before writing
        dead = u.enrollments.claim_due([journey_id], T0, limit=10, token="dead", lease_until=T0 + timedelta(minutes=5))
    w = worker(store, clock)
    first = w.run_once()
    assert first.advanced.advanced == 20  # the dead worker's ten are leased, not lost
    clock.advance(timedelta(minutes=6))  # its lease runs out
    assert w.run_once().advanced.advanced == 10
    run_until(w, clock, store, T0 + days(3))
    steps = _steps(store)
    assert len(steps) == 60 and set(steps.values()) == {1}
    assert {m["enrollment_id"] for m in store.messages()} >= {e.enrollment_id for e in dead}


class _FailingMessages:
    """An enrollment repository whose outbox insert fails after it ran (the store went away mid-write)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def add_messages(self, messages: Any) -> int:
        self._inner.add_messages(messages)
        raise ConnectionError("the store went away")


class _Failing:
    """A unit of work (one transaction) whose ``enrollments`` is :class:`_FailingMessages`."""

    def __init__(self, real: Any) -> None:
        self._cm = real()

    def __enter__(self) -> Any:
        self._u = self._cm.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._cm.__exit__(*exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._u, name)

    @property
    def enrollments(self) -> Any:
        return _FailingMessages(self._u.enrollments)


def test_a_write_that_fails_before_its_commit_writes_nothing(store) -> None:
    clock = ManualClock(T0)
    journey_id = _start(store, 12, clock)
    with pytest.raises(ConnectionError):
        advance_due(lambda: _Failing(store.uow), [journey_id], T0, limit=100)
    assert store.messages() == []
    assert all(e["step_id"] == "first" for e in store.enrollments())  # positions rolled back with the messages
    clock.advance(timedelta(minutes=6))  # the failed batch's lease runs out
    done = advance_due(store.uow, [journey_id], clock.now(), limit=100)
    assert done == replace(Advanced(), claimed=12, advanced=12, steps=24, messages=12)
    assert len(_steps(store)) == 12


WORKER_SCRIPT = textwrap.dedent(
    """
    import sys, threading
    from aftersales.adapters.sql.engine import make_engine
    from aftersales.adapters.sql.repositories import unit_of_work_factory
    from aftersales.services.clock import SystemClock
    from aftersales.services.operational.journeys.worker import Worker, WorkerOptions

    uow = unit_of_work_factory(make_engine(sys.argv[1]))
    Worker(uow, SystemClock(), options=WorkerOptions(batch=20, poll_s=0.05)).run_forever(threading.Event())
    """
)


def test_a_worker_killed_with_sigkill_loses_no_step_and_repeats_no_message(store, tmp_path) -> None:
    n = 3000
    now = datetime.now(UTC)
    clock = ManualClock(now)
    doc = {**TWO_MAILS, "steps": TWO_MAILS["steps"][:1]}  # one e-mail, then done
    _start(store, n, clock, doc)
    script = tmp_path / "worker.py"
    script.write_text(WORKER_SCRIPT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, str(script), str(store.engine.url.render_as_string(False))], env=env)
    try:
        q = select(func.count()).select_from(journey_messages)
        written = 0
        while written == 0 and proc.poll() is None:  # wait until it is part-way through, then kill it
            with store.engine.connect() as conn:
                written = conn.execute(q).scalar_one()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert 0 < written < n  # killed part-way
    # A fresh worker, after the dead one's leases ran out, finishes the work.
    clock.set(datetime.now(UTC) + timedelta(minutes=10))
    w = worker(store, clock)
    run_until(w, clock, store, clock.now() + timedelta(hours=1))
    steps = _steps(store)
    assert len(steps) == n and set(steps.values()) == {1}
    assert {e["status"] for e in store.enrollments()} == {"completed"}
