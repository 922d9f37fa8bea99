"""The loyalty ledger on PostgreSQL (issue 17): processing the generator's orders, one member's
balance, the liability over all members, and concurrent redemptions.

A synthetic store of ``--customers`` customers (the generator, seeded) is bulk-loaded into a fresh
PostgreSQL database (``bench/_bulk_store.py``), a program with category multipliers, a return window,
expiry and two tiers is applied, and then, timed:

* **process**: ``loyalty.process`` as of the store's end: every order earned, locked, released or
  reversed, every due lot expired, every tier evaluated (the product's own writer, in batches);
* **re-process**: the same again (writes nothing: the idempotency check's cost); with ``--sqlite``
  both also on the same store in a SQLite file;
* **balance**: ``loyalty.member`` (balance, lots, tier derived from the member's rows) for
  ``--samples`` random members, p50/p99; and the bare indexed sum of one member's points;
* **liability**: ``loyalty.report`` (grouped sums over the whole ledger, pending expiry, tiers);
* **redeem**: ``--threads`` threads (one connection each) redeeming for random members with points,
  each with its own key, for ``--seconds``, paced at ``--rate`` per second and then unpaced:
  redemptions per second and p50/p99 latency.

    .venv/bin/python bench/bench_loyalty.py [--customers 20000] [--pg URL-of-server] [--keep] [--sqlite]
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from aftersales import bootstrap
from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.repositories import unit_of_work_factory
from aftersales.core.loyalty import InsufficientPoints
from aftersales.services.clock import ManualClock
from aftersales.services.operational import loyalty

END = date(2026, 1, 1)
PROGRAM = {
    "name": "bench",
    "earn": {"points_per_unit": 1, "category_multipliers": {"bikes": 2, "parts": 1.5}},
    "lock": {"return_window_days": 30},
    "expiry": {"active_days": 365, "warning_days": 30},
    "tiers": {
        "window_days": 365,
        "levels": [
            {"name": "member", "min_points": 0},
            {"name": "silver", "min_points": 1000, "earn_multiplier": 1.25},
        ],
    },
    "rewards": [{"id": "five", "name": "5 off", "points": 10, "kind": "amount_off", "value": 5}],
}


def _fresh_database(server: str, name: str) -> str:
    admin = make_engine(str(make_url(server).set(database="postgres")), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return str(make_url(server).set(database=name))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(values: list[float]) -> str:
    return f"p50 {1000 * statistics.median(values):.2f} ms, p99 {1000 * _pct(values, 0.99):.2f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--database", default="aftersales_bench_loyalty")
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rate", type=float, default=200.0, help="Paced redemptions per second (0: as fast as possible).")
    ap.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    ap.add_argument("--sqlite", action="store_true", help="Also time the same store's processing on SQLite.")
    args = ap.parse_args()

    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from _bulk_store import load_store

    url = _fresh_database(args.pg, args.database)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        bootstrap.generate_store(args.customers, 7, END, Path(tmp))
        print(f"generated {args.customers:,} customers in {time.perf_counter() - started:.1f} s")
        loaded = load_store(Path(tmp), url)
        print(f"loaded: {loaded}")
        if args.sqlite:
            lite = f"sqlite:///{Path(tmp) / 'store.db'}"
            load_store(Path(tmp), lite)
            _process_twice(lite, "SQLite")
    engine = make_engine(url, pool_size=args.threads + 2)
    uow = unit_of_work_factory(engine)
    clock = ManualClock(datetime(END.year, END.month, END.day, tzinfo=UTC))
    _process_twice(url, "PostgreSQL", uow)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE loyalty_entries; ANALYZE loyalty_members"))
        entries = conn.execute(text("SELECT count(*) FROM loyalty_entries")).scalar_one()
        orders = conn.execute(text("SELECT count(*) FROM orders")).scalar_one()
        members = [r[0] for r in conn.execute(text("SELECT member_id FROM loyalty_members"))]
    print(f"ledger: {entries:,} entries for {len(members):,} members from {orders:,} orders")

    rng = random.Random(1)
    sample = [rng.choice(members) for _ in range(args.samples)]
    times = []
    for m in sample:
        t0 = time.perf_counter()
        loyalty.member(uow, m, clock=clock)
        times.append(time.perf_counter() - t0)
    print(f"balance (loyalty.member: rows, lots, tier): {_ms(times)}")
    raw = []
    with engine.connect() as conn:
        q = text("SELECT coalesce(sum(points), 0), coalesce(sum(locked), 0) FROM loyalty_entries WHERE member_id = :m")
        for m in sample:
            t0 = time.perf_counter()
            conn.execute(q, {"m": m}).one()
            raw.append(time.perf_counter() - t0)
    print(f"balance (indexed sum of one member's rows): {_ms(raw)}")

    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        r = loyalty.report(uow, clock=clock)
        runs.append(time.perf_counter() - t0)
    print(f"liability: {min(runs):.2f} s best of 3 ({r.points_held:,} points held, {r.liability} {r.currency}, "
          f"redemption rate {r.redemption_rate}, breakage {r.breakage:.3f}, tiers {r.tiers})")  # fmt: skip

    rich = members[: 20 * args.threads * 50]
    for rate in [args.rate, 0.0] if args.rate else [0.0]:
        _redeem(uow, clock, rich, args.threads, args.seconds, rate)
    engine.dispose()
    if not args.keep:
        _drop(args.pg, args.database)


def _process_twice(url: str, label: str, uow: Any = None) -> None:
    """Apply the program and process the store as of its end, then again (which writes nothing)."""
    clock = ManualClock(datetime(END.year, END.month, END.day, tzinfo=UTC))
    engine = None
    if uow is None:
        engine = make_engine(url)
        uow = unit_of_work_factory(engine)
    loyalty.apply_program(uow, PROGRAM, clock=clock)
    for run in ("process", "re-process"):
        t0, c0 = time.perf_counter(), time.process_time()
        report = loyalty.process(uow, clock=clock, batch=2000)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"{label} {run}: {report.members:,} members, {report.entries:,} rows {report.by_kind} in {wall:.1f} s "
              f"(Python CPU {cpu:.1f} s), {report.tier_changes:,} tier changes, {report.events:,} events")  # fmt: skip
    if engine is not None:
        engine.dispose()


def _redeem(uow: Any, clock: ManualClock, members: list[str], threads: int, seconds: float, rate: float) -> None:
    """Redemptions from ``threads`` threads for ``seconds``: paced to ``rate`` per second in all (each
    thread keeps its own schedule, so a slow answer does not slow the offered load), or unpaced."""
    latencies: list[float] = []
    refused = [0]
    lock = threading.Lock()
    start = time.perf_counter() + 0.1
    stop = start + seconds

    def worker(seed: int) -> None:
        local = random.Random(seed)
        mine: list[float] = []
        step = threads / rate if rate else 0.0
        due = start + seed * step / threads
        while True:
            if step:
                time.sleep(max(0.0, due - time.perf_counter()))
                due += step
            t0 = time.perf_counter()
            if t0 >= stop:
                break
            try:
                loyalty.redeem(uow, local.choice(members), "five", key=secrets.token_hex(8), clock=clock)
            except InsufficientPoints:
                with lock:
                    refused[0] += 1
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    took = time.perf_counter() - start
    offered = f"paced at {rate:.0f}/s" if rate else "unpaced"
    print(f"redeem ({offered}, {threads} threads): {len(latencies) / took:.0f}/s over {took:.1f} s "
          f"({refused[0]:,} refused for lack of points), {_ms(latencies)}")  # fmt: skip


def _drop(server: str, name: str) -> Any:
    admin = make_engine(str(make_url(server).set(database="postgres")), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


if __name__ == "__main__":
    main()
