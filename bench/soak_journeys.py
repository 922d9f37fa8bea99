"""The kill -9 soak (issue 15, "Speed, reliability"): a journey sends N e-mails while its worker
processes are killed with SIGKILL at random moments, each restarted at once; at the end:

* the SMTP server received no Message-ID twice (bench/_smtp_sink.py, a real aiosmtpd server in its
  own process, records every Message-ID it accepts, and is never killed);
* every intended message (one per enrollment) is ``sent`` or ``unknown``, nothing else; the unknown
  ones are at most one per kill (a worker has one message in flight); every sent one was received,
  and nothing was received that is neither sent nor unknown;
* no step was lost: every enrollment completed, each with its one message.

    .venv/bin/python bench/soak_journeys.py [--n 100000] [--kills 20] [--workers 2] [--lease-s 15]
                                            [--db postgres|sqlite] [--seed S]

The journey: a split (a/b), the e-mail (marketing, the shipped ``thank-you`` template in the
customer's locale, signed links, List-Unsubscribe), a branch on the CLV tier, exit. ``--n``
customers of a segment are started at once (``enroll_segment``); worker processes (the Worker API
with the delivery's sender, as ``aftersales worker`` builds it: bench/_journey_worker.py) advance
and send. The kills come at random points of the run: ``--kills`` fractions of N drawn uniformly
(seeded), each taken when that many messages have been sent, after a random pause of up to 0.2 s;
the victim is a random worker. The leases (``--lease-s``, enrollments and messages) decide how long
a killed worker's rows wait before another worker takes them (claimed, never attempted) or marks
them ``unknown`` (being sent: never resent).

Each run makes its own PostgreSQL database (``aftersales_bench_soak_<pid>``, dropped afterwards) or
SQLite file. The short version runs in the test suite: tests/integration/journeys/test_soak_kill9.py.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _journey_store as js
from _journey_procs import load, start_sink, start_worker, stop, wait_until
from _smtp_sink import read_ids
from aftersales.adapters.sql.engine import make_engine

__all__ = ["SOAK_JOURNEY", "SoakResult", "soak"]

SOAK_JOURNEY = {
    "name": "soak",
    "trigger": {"event": "soak.never"},
    "audience": js.SEGMENT,
    "holdout": 0,
    "topic": "post_purchase",
    "steps": [
        {"id": "pick", "type": "split", "variants": [{"name": "a"}, {"name": "b"}]},
        {"id": "hello", "type": "email", "template": "thank-you"},
        {"id": "tier", "type": "branch", "default": "done",
         "cases": [{"when": {"field": "profile.clv_tier", "op": "eq", "value": "above_average"}, "next": "done"}]},
        {"id": "done", "type": "exit"},
    ],
}  # fmt: skip


@dataclass
class SoakResult:
    """What a soak found; ``problems`` lists every broken promise (empty: all held)."""

    n: int
    kills: int
    seconds: float = 0.0
    load: str = ""
    messages: dict[str, int] = field(default_factory=dict)
    enrollments: dict[str, int] = field(default_factory=dict)
    received: int = 0
    duplicates: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _check(engine: object, journey_id: str, log: Path, result: SoakResult) -> None:
    """The module's promises, as ``result.problems``."""
    result.enrollments = js.counts(engine, journey_id)["enrollments"]
    result.messages = js.counts(engine, journey_id)["messages"]
    received = read_ids(log)
    result.received = len(received)
    result.duplicates = sorted(mid for mid, c in Counter(received).items() if c > 1)
    with engine.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(
            text("SELECT status, rfc_message_id FROM journey_messages WHERE journey_id = :j"), {"j": journey_id}
        ).all()
        per_enrollment = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT e.enrollment_id, count(m.message_id) AS c FROM journey_enrollments e "
                "LEFT JOIN journey_messages m ON m.enrollment_id = e.enrollment_id WHERE e.journey_id = :j "
                "GROUP BY e.enrollment_id) AS t WHERE c <> 1"
            ),
            {"j": journey_id},
        ).scalar_one()
    sent = {r for s, r in rows if s == "sent"}
    unknown = {r for s, r in rows if s == "unknown"}
    got = set(received)
    p = result.problems
    if result.duplicates:
        p.append(f"{len(result.duplicates)} Message-IDs received more than once, e.g. {result.duplicates[:3]}")
    if result.enrollments != {"completed": result.n}:
        p.append(f"enrollments are not all completed: {result.enrollments}")
    if per_enrollment:
        p.append(f"{per_enrollment} enrollments do not have exactly one message")
    if len(rows) != result.n or set(result.messages) - {"sent", "unknown"}:
        p.append(f"messages are not all sent or unknown: {result.messages} (of {result.n})")
    if len(unknown) > result.kills:
        p.append(f"{len(unknown)} unknown outcomes for {result.kills} kills (at most one per kill)")
    if sent - got:
        p.append(f"{len(sent - got)} messages recorded as sent were never received")
    if got - sent - unknown:
        p.append(f"{len(got - sent - unknown)} received Message-IDs are neither sent nor unknown")


def soak(
    url: str,
    *,
    n: int,
    kills: int,
    workers: int = 2,
    lease_s: float = 15.0,
    seed: int = 15,
    folder: Path,
    timeout_s: float = 3600.0,
) -> SoakResult:
    """Run the soak on the migrated, empty store ``url`` (module docstring); what it found."""
    rng = random.Random(seed)
    js.add_audience(url, n)
    journey = js.apply_journey(url, SOAK_JOURNEY)
    js.start(url, journey)
    engine = make_engine(url)
    result = SoakResult(n, kills)
    sink, port, log = start_sink(folder)
    extra = ("--lease-s", str(lease_s))
    procs: list[subprocess.Popen[str]] = []
    t0 = time.perf_counter()
    try:
        procs = [start_worker(url, port, None, *extra) for _ in range(workers)]

        def sent() -> int:
            return js.counts(engine, journey)["messages"].get("sent", 0)

        for mark in sorted(rng.uniform(0.02, 0.95) * n for _ in range(kills)):
            wait_until(lambda m=mark: sent() >= m, timeout_s, f"{mark:.0f} messages sent", every=0.05)
            time.sleep(rng.uniform(0, 0.2))
            i = rng.randrange(len(procs))
            os.kill(procs[i].pid, signal.SIGKILL)
            procs[i].wait()
            procs[i] = start_worker(url, port, None, *extra)

        def finished() -> bool:
            c = js.counts(engine, journey)
            return c["enrollments"].get("active", 0) == 0 and not {"queued", "sending"} & set(c["messages"])

        wait_until(finished, timeout_s, "every enrollment and message to finish", every=0.5)
        result.seconds = time.perf_counter() - t0
        result.load = load()
    finally:
        for p in procs:
            stop(p)
        stop(sink)
    _check(engine, journey, log, result)
    engine.dispose()  # type: ignore[attr-defined]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lease-s", type=float, default=15.0)
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; load average at the start: {load()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="soak-journeys-") as tmp:
        url = js.store_url(args.db, f"aftersales_bench_soak_{os.getpid()}", folder=tmp)
        try:
            r = soak(url, n=args.n, kills=args.kills, workers=args.workers, lease_s=args.lease_s, seed=args.seed,
                     folder=Path(tmp))  # fmt: skip
        finally:
            js.drop(url)
    print(f"{args.db}, {args.workers} workers, {r.n:,} messages, {r.kills} kills (SIGKILL, restarted at once), "
          f"lease {args.lease_s:g} s, seed {args.seed}")  # fmt: skip
    print(f"  {r.seconds:.0f} s ({r.n / r.seconds:,.0f} messages/s with the kills), load {r.load}")
    print(f"  messages {r.messages}; enrollments {r.enrollments}")
    print(f"  the SMTP sink received {r.received:,} messages, {len(r.duplicates)} Message-IDs twice")
    for problem in r.problems:
        print(f"  FAILED: {problem}")
    print("  all promises held" if r.ok else "  SOAK FAILED")
    sys.exit(0 if r.ok else 1)


if __name__ == "__main__":
    main()
