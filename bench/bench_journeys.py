"""Journeys at speed (issue 15, "Speed, reliability"): e-mails sent per second, non-sending steps per
second, and a segment of 1M customers started, on PostgreSQL (and smaller on SQLite), each figure
with the machine's load average beside it.

    .venv/bin/python bench/bench_journeys.py [--n 20000] [--start-n 1000000] [--sqlite-n 5000]
                                             [--sqlite-start-n 200000] [--only send,steps,start]
                                             [--kinds postgres,sqlite]

What runs (worker processes are bench/_journey_worker.py: the Worker API as ``aftersales worker``
builds it, each its own process with its own SMTP connection and database connections; the SMTP
server is bench/_smtp_sink.py, a real aiosmtpd server in its own process that records every
Message-ID it accepts):

* **send**: ``--n`` customers enter a journey of one marketing e-mail (the shipped ``thank-you``
  template in the customer's locale, the shared layout with its CSS inlined, signed unsubscribe and
  preference links, List-Unsubscribe headers); their messages are queued first (not timed), then 1
  and 2 worker processes send them all (the queue is reset between the two). Rate = messages /
  (last ``finished_at`` - first ``started_at``), the store's own readings; the Message-IDs the sink
  received are checked (every one once). CPU per message: the workers' own, the PostgreSQL backends
  serving them, and the sink's.
* **steps**: ``--n`` customers enter a journey of waits, branches and a split (wait 1m, branch on
  the CLV tier, split a/b, wait 1m, branch, exit; three moves per enrollment) run by 2 workers (1
  on SQLite) whose clocks run 600 times faster than the machine's (a 1-minute wait takes 0.1 s).
  Steps/s = the steps the workers report / the time until every enrollment completed.
* **start**: ``--start-n`` customers and their segment memberships are written by COPY (not timed),
  then ``enroll_segment`` (``aftersales journeys start``) enters them all (timed).

Each store is a database of its own (``aftersales_bench_journeys_<pid>_<what>`` on PostgreSQL at
127.0.0.1:5432, a file under the temporary folder for SQLite), dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _journey_store as js
from _journey_procs import cpu_s, load, start_sink, start_worker, stop, wait_until
from _smtp_sink import read_ids
from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.repositories import unit_of_work_factory
from aftersales.services.clock import SystemClock
from aftersales.services.operational.journeys.worker import Worker, WorkerOptions

SPEED = 600.0
SEND_JOURNEY = {
    "name": "bench-send",
    "trigger": {"event": "bench.never"},
    "audience": js.SEGMENT,
    "holdout": 0,
    "topic": "post_purchase",
    "steps": [{"id": "thanks", "type": "email", "template": "thank-you"}],
}
STEPS_JOURNEY = {
    "name": "bench-steps",
    "trigger": {"event": "bench.never"},
    "audience": js.SEGMENT,
    "holdout": 0,
    "steps": [
        {"id": "settle", "type": "wait", "duration": "1m"},
        {"id": "tier", "type": "branch", "default": "later",
         "cases": [{"when": {"field": "profile.clv_tier", "op": "eq", "value": "above_average"}, "next": "test"}]},
        {"id": "test", "type": "split", "variants": [{"name": "a"}, {"name": "b"}]},
        {"id": "later", "type": "wait", "duration": "1m"},
        {"id": "again", "type": "branch", "default": "done",
         "cases": [{"when": {"field": "profile.orders", "op": "ge", "value": 3}, "next": "done"}]},
        {"id": "done", "type": "exit"},
    ],
}  # fmt: skip
START_JOURNEY = {
    "name": "bench-start",
    "trigger": {"event": "bench.never"},
    "audience": js.SEGMENT,
    "steps": [
        {"id": "later", "type": "wait", "duration": "1d"},
        {"id": "thanks", "type": "email", "template": "thank-you"},
    ],
}


def backend_cpu_s(engine: Any) -> float:
    """CPU seconds of the PostgreSQL backends connected to this database (other than ours)."""
    if engine.dialect.name != "postgresql":
        return 0.0
    with engine.connect() as conn:
        pids = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        ).scalars()
        return sum(cpu_s(int(p)) for p in pids)


def queue_all(url: str) -> float:
    """Advance every due enrollment in this process (no sending); enrollments advanced per second."""
    engine = make_engine(url)
    worker = Worker(unit_of_work_factory(engine), SystemClock(), options=WorkerOptions(batch=500, max_batches=1000))
    t0, n = time.perf_counter(), 0
    while True:
        done = worker.run_once()
        n += done.advanced.advanced
        if not done.full:
            break
    engine.dispose()
    return n / (time.perf_counter() - t0)


def bench_send(url: str, n: int, workers: list[int], folder: Path) -> list[dict[str, Any]]:
    journey = js.apply_journey(url, SEND_JOURNEY)
    js.start(url, journey)
    queued = queue_all(url)
    rows: list[dict[str, Any]] = [{"what": f"queue {n:,} e-mails (advance, 1 process)", "rate": queued, "unit": "/s",
                                   "load": load()}]  # fmt: skip
    engine = make_engine(url)
    for k in workers:
        js.reset_messages(engine, journey, datetime.now(UTC))
        sink, port, log = start_sink(folder)
        sink_cpu0 = cpu_s(sink.pid)
        reports = [folder / f"w{k}-{i}.json" for i in range(k)]
        procs = [start_worker(url, port, r) for r in reports]
        pg0 = backend_cpu_s(engine)

        def finished() -> bool:
            m = js.counts(engine, journey)["messages"]
            return m.get("queued", 0) + m.get("sending", 0) == 0

        t0 = time.perf_counter()
        wait_until(finished, 3600, "the messages to be sent")
        wall = time.perf_counter() - t0
        pg = backend_cpu_s(engine) - pg0
        sink_cpu = cpu_s(sink.pid) - sink_cpu0
        for p in procs:
            stop(p)
        stop(sink)
        got = js.counts(engine, journey)["messages"]
        window = js.sent_window(engine, journey)
        ids = read_ids(log)
        assert got.get("sent", 0) == n, f"not all sent: {got}"
        assert len(ids) == len(set(ids)) == n, f"sink: {len(ids)} received, {len(set(ids))} distinct, {n} sent"
        span = (window[1] - window[0]).total_seconds() if window else wall
        worker_cpu = sum(float(json.loads(r.read_text())["cpu_s"]) for r in reports)
        rows.append({
            "what": f"send {n:,} e-mails, {k} worker process{'es' if k > 1 else ''}", "rate": n / span, "unit": "/s",
            "load": load(),
            "note": f"{span:.1f} s; CPU/msg: workers {1000 * worker_cpu / n:.2f} ms, "
                    + (f"PostgreSQL {1000 * pg / n:.2f} ms, " if pg else "")
                    + f"sink {1000 * sink_cpu / n:.2f} ms",
        })  # fmt: skip
    engine.dispose()
    return rows


def bench_steps(url: str, n: int, workers: int, folder: Path) -> list[dict[str, Any]]:
    journey = js.apply_journey(url, STEPS_JOURNEY)
    js.start(url, journey)
    engine = make_engine(url)
    epoch = time.time()
    reports = [folder / f"steps-{i}.json" for i in range(workers)]
    extra = ("--no-send", "--speed", str(SPEED), "--epoch", str(epoch))
    procs = [start_worker(url, 0, r, *extra) for r in reports]
    t0 = time.perf_counter()
    wait_until(lambda: js.counts(engine, journey)["enrollments"].get("active", 0) == 0, 3600, "the steps")
    wall = time.perf_counter() - t0
    for p in procs:
        stop(p)
    engine.dispose()
    totals = [json.loads(r.read_text()) for r in reports]
    steps, moves = sum(t["steps"] for t in totals), sum(t["advanced"] for t in totals)
    cpu = sum(t["cpu_s"] for t in totals)
    return [{
        "what": f"steps of {n:,} enrollments (wait, branch, split, wait, branch, exit), {workers} worker(s)",
        "rate": steps / wall, "unit": "steps/s", "load": load(),
        "note": f"{steps:,} steps in {moves:,} moves, {wall:.1f} s ({moves / wall:,.0f} moves/s); "
                f"worker CPU {1000 * cpu / steps:.3f} ms/step",
    }]  # fmt: skip


def bench_start(kind: str, n: int) -> list[dict[str, Any]]:
    url = js.store_url(kind, f"aftersales_bench_journeys_{os.getpid()}_start", folder=tempfile.gettempdir())
    try:
        t0 = time.perf_counter()
        js.add_audience(url, n)
        built = time.perf_counter() - t0
        js.apply_journey(url, START_JOURNEY)
        t0 = time.perf_counter()
        entered = js.start(url, START_JOURNEY["name"])
        took = time.perf_counter() - t0
    finally:
        js.drop(url)
    return [{
        "what": f"start a segment of {n:,} (enroll_segment)", "rate": took, "unit": "s", "load": load(),
        "note": f"{entered.enrolled:,} entered, {entered.held_out:,} held out; store built in bulk in {built:.0f} s",
    }]  # fmt: skip


def run(kind: str, args: argparse.Namespace, folder: Path) -> Iterator[dict[str, Any]]:
    n = args.n if kind == "postgres" else args.sqlite_n
    if {"send", "steps"} & set(args.only):
        url = js.store_url(kind, f"aftersales_bench_journeys_{os.getpid()}", folder=str(folder))
        try:
            js.add_audience(url, n)
            if "send" in args.only:
                yield from bench_send(url, n, [1, 2] if kind == "postgres" else [1], folder)
            if "steps" in args.only:
                yield from bench_steps(url, n, 2 if kind == "postgres" else 1, folder)
        finally:
            js.drop(url)
    if "start" in args.only:
        yield from bench_start(kind, args.start_n if kind == "postgres" else args.sqlite_start_n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--start-n", type=int, default=1_000_000)
    parser.add_argument("--sqlite-n", type=int, default=5_000)
    parser.add_argument("--sqlite-start-n", type=int, default=200_000)
    parser.add_argument("--only", type=lambda v: v.split(","), default=["send", "steps", "start"])
    parser.add_argument("--kinds", type=lambda v: v.split(","), default=["postgres", "sqlite"])
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; load average (1, 5, 15 min) at the start: {load()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-journeys-") as tmp:
        for kind in args.kinds:
            print(f"\n{kind}", flush=True)
            print(f"{'measure':<78} {'figure':>14}  {'load 1/5/15':<16} notes", flush=True)
            for row in run(kind, args, Path(tmp)):
                figure = f"{row['rate']:,.1f} {row['unit']}"
                print(f"{row['what']:<78} {figure:>14}  {row['load']:<16} {row.get('note', '')}", flush=True)


if __name__ == "__main__":
    main()
