"""Bench-only: one journey worker process, as ``aftersales worker`` builds it (the Worker API with the
delivery's sender from ``bootstrap.delivery``), with what a benchmark needs to set:

    python bench/_journey_worker.py URL --smtp-port P [--lease-s 300] [--no-send] [--poll 0.05]
                                        [--speed 1 --epoch T0]

* SMTP on 127.0.0.1:P (the sink, bench/_smtp_sink.py), no quiet hours (the figures must not depend
  on the hour the benchmark runs at), the default frequency cap, a send rate high enough not to pace;
* ``--lease-s``: the enrollment and message leases (short in the soak, so that a killed worker's
  rows come back soon);
* ``--speed F --epoch T0``: a clock running F times faster than the machine's from Unix time T0
  (the same T0 for every worker, so that they agree): a 1-minute wait takes 60/F seconds;
* ``--report PATH``: on SIGTERM, after the round in progress, it writes what it did (enrollments
  advanced, steps, messages sent, CPU seconds) as JSON to PATH and exits 0.

Never used by the product.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import signal
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.repositories import unit_of_work_factory
from aftersales.bootstrap.delivery import delivery_sender
from aftersales.bootstrap.journeys import worker_options
from aftersales.config import Settings
from aftersales.services.clock import Clock, SystemClock
from aftersales.services.operational.journeys.worker import Round, Worker

MAIL_FROM = "Shop <noreply@bench.example>"


class FastClock:
    """``epoch + (machine time - epoch) * speed``."""

    def __init__(self, epoch: float, speed: float) -> None:
        self.epoch, self.speed = epoch, speed

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.epoch + (time.time() - self.epoch) * self.speed, UTC)


class CountingWorker(Worker):
    """A worker that adds up what its rounds did."""

    totals: dict[str, int]

    def run_once(self, now: datetime | None = None) -> Round:
        done = super().run_once(now)
        t = self.totals
        t["rounds"] += 1
        t["advanced"] += done.advanced.advanced
        t["steps"] += done.advanced.steps
        t["queued"] += done.advanced.messages
        for name in ("sent", "unknown", "failed", "retried", "deferred", "paced"):
            t[name] += int(getattr(done.sent, name, 0) or 0)
        return done


def settings(url: str, smtp_port: int) -> Settings:
    return Settings(
        database_url=url,
        email_transport="smtp",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_timeout_s=30,
        secret_key="bench-signing-key-" + "k" * 16,
        public_url="https://shop.bench.example",
        mail_from=MAIL_FROM,
        quiet_hours="off",
        send_rate_per_s=1_000_000.0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--lease-s", type=float, default=300.0)
    parser.add_argument("--no-send", action="store_true")
    parser.add_argument("--poll", type=float, default=0.05)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--epoch", type=float, default=0.0)
    parser.add_argument("--report", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s worker: %(levelname)s %(name)s: %(message)s")
    s = settings(args.url, args.smtp_port)
    clock: Clock = FastClock(args.epoch, args.speed) if args.speed != 1 else SystemClock()
    engine = make_engine(args.url)
    uow = unit_of_work_factory(engine)
    lease = timedelta(seconds=args.lease_s * args.speed)  # leases run on the worker's clock
    sender = None
    if not args.no_send:
        sender = delivery_sender(uow, clock, s)
        sender.config = replace(sender.config, lease_s=lease.total_seconds())
    options = worker_options(s, lease=lease, poll_s=args.poll)
    worker = CountingWorker(uow, clock, options=options, send=sender, name="bench-worker")
    worker.totals = dict.fromkeys(
        ("rounds", "advanced", "steps", "queued", "sent", "unknown", "failed", "retried", "deferred", "paced"), 0
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    started = resource.getrusage(resource.RUSAGE_SELF)
    print("ready", flush=True)
    try:
        worker.run_forever(stop)
    finally:
        if sender is not None:
            sender.close()
        engine.dispose()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - started.ru_utime - started.ru_stime
    report: dict[str, Any] = {**worker.totals, "cpu_s": round(cpu, 3)}  # after start-up
    if args.report is not None:
        args.report.write_text(json.dumps(report))


if __name__ == "__main__":
    main()
