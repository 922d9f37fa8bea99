"""Concurrent writers of one member: 100 redemptions at once never overdraw nor spend a point twice
(PostgreSQL: a row lock on the member; SQLite: the database's write lock), retries racing with one
key redeem once, and processing running beside redemptions keeps every lot's sum exact."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.repositories import unit_of_work_factory
from aftersales.core.loyalty import InsufficientPoints, derive, lots_of
from aftersales.services.operational import loyalty


def _race(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``n`` threads released together; each result or exception, by ``i``."""
    gate = threading.Barrier(n)
    out: list[Any] = [None] * n

    def run(i: int) -> None:
        gate.wait()
        try:
            out[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test inspects what each writer got
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _store(world, connections: int) -> Any:
    """A unit of work on its own engine: ``connections`` separate connections for the threads."""
    kw: dict[str, Any] = {"pool_size": connections, "max_overflow": 0, "pool_timeout": 120}
    engine = make_engine(world.url, **kw)
    return engine, unit_of_work_factory(engine)


def _with_points(world) -> None:
    world.apply()
    world.customer("c1")
    for i, revenue in enumerate((400.0, 350.0, 250.0)):  # three lots, 1000 points
        world.order(f"o{i}", "c1", i, revenue)
    world.process(40)


def _check_ledger(world) -> Any:
    with world.uow() as u:
        rows = u.loyalty.entries(["c1"])["c1"]
    assert all(lot.remaining >= 0 and 0 <= lot.locked <= lot.remaining for lot in lots_of(rows).values())
    state = derive(rows, world.clock.now())
    assert state.balance == state.lot_sum >= 0
    return state


def _redemptions(world, n: int, connections: int) -> list[Any]:
    engine, uow = _store(world, connections)
    try:
        return _race(n, lambda i: loyalty.redeem(uow, "c1", "thirty", key=f"k{i}", clock=world.clock))
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_100_concurrent_redemptions_on_postgres_never_overdraw(world) -> None:
    if not world.url.startswith("postgresql"):
        pytest.skip("the row lock is PostgreSQL's; SQLite has its own test below")
    _with_points(world)
    # 100 threads; PostgreSQL here allows 100 connections in all, so they share 40 of their own
    results = _redemptions(world, 100, 40)
    made = [r for r in results if isinstance(r, loyalty.Redemption)]
    refused = [r for r in results if isinstance(r, InsufficientPoints)]
    assert len(made) == 33 and len(refused) == 67, [r for r in results if isinstance(r, Exception)][:3]
    # each success saw the one before it: the available points after each are all different
    assert sorted(r.available for r in made) == list(range(10, 1000, 30))
    state = _check_ledger(world)
    assert (state.balance, state.available) == (10, 10)
    assert world.count("loyalty_redemptions") == 33
    assert sum(-e for _, _, e, _ in world.rows("c1") if e < 0) == 990


def test_concurrent_redemptions_on_each_database_are_serialised(world) -> None:
    _with_points(world)
    results = _redemptions(world, 20, 20 if world.url.startswith("postgresql") else 5)
    made = [r for r in results if isinstance(r, loyalty.Redemption)]
    assert len(made) == 20, [r for r in results if isinstance(r, Exception)][:3]
    assert sorted(r.available for r in made) == list(range(400, 1000, 30))
    assert _check_ledger(world).available == 400


def test_retries_racing_with_one_key_redeem_once(world) -> None:
    _with_points(world)
    engine, uow = _store(world, 10)
    try:
        results = _race(10, lambda i: loyalty.redeem(uow, "c1", "ten_off", key="same", clock=world.clock))
    finally:
        engine.dispose()
    assert all(isinstance(r, loyalty.Redemption) for r in results), results
    assert len({r.redemption_id for r in results}) == 1 and sum(not r.replayed for r in results) == 1
    assert world.count("loyalty_redemptions") == 1 and _check_ledger(world).available == 900


def test_processing_beside_redemptions_keeps_lot_sums_exact(world) -> None:
    _with_points(world)
    world.order("late", "c1", 39, 300.0)  # earned and locked by the processing that races the redemptions
    engine, uow = _store(world, 12)

    def work(i: int) -> Any:
        if i == 0:
            return loyalty.process(uow, clock=world.clock)
        return loyalty.redeem(uow, "c1", "ten_off", key=f"k{i}", clock=world.clock)

    try:
        results = _race(12, work)
    finally:
        engine.dispose()
    made = [r for r in results[1:] if isinstance(r, loyalty.Redemption)]
    assert len(made) == 10 and isinstance(results[0], loyalty.ProcessReport), results
    state = _check_ledger(world)
    assert (state.balance, state.locked, state.available) == (450, 450, 0)  # 300 at silver (x1.5), locked
