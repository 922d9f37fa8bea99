"""``aftersales worker``: run journeys on the store until SIGTERM or Ctrl-C (docs/journeys.md, "The
engine: workers, leases, time").

Each round scans the active journeys' triggers, wakes enrollments an awaited event arrived for,
advances the due ones and sends the due messages. Run several on PostgreSQL to share the work; on
SQLite one is enough (``aftersales serve`` runs one itself unless ``--no-worker``). ``--once`` runs
one round and prints what it did.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from typing import Any

import typer

from aftersales.entrypoints.cli.options import DbOption

__all__ = ["register", "worker"]


def worker(
    db: str | None = DbOption,
    once: bool = typer.Option(False, "--once", help="Run one round, print what it did, and exit."),
    poll: float = typer.Option(1.0, "--poll", min=0.01, max=3600, help="Seconds between rounds when idle."),
    send: bool = typer.Option(True, "--send/--no-send", help="Also send the due messages (else another process does)."),
) -> None:
    """Run the journey worker: triggers, due steps and sending, until SIGTERM/Ctrl-C."""
    from aftersales import bootstrap
    from aftersales.bootstrap import journeys as wiring

    bootstrap.init_store(db)
    handle = wiring.open_worker(db, poll_s=poll, send=send)
    try:
        if once:
            print(_summary(handle.worker.run_once()))
            return
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        print(f"journey worker running (poll {poll:g} s); Ctrl-C or SIGTERM stops it after the round in progress")
        with contextlib.suppress(KeyboardInterrupt):
            handle.worker.run_forever(stop)
    finally:
        handle.close()


def _summary(done: Any) -> str:
    a = done.advanced
    line = (
        f"round at {done.at.isoformat()}: {done.scanned} journeys scanned, {done.enrolled:,} enrolled, "
        f"{done.held_out:,} held out, {done.woken:,} woken; {a.advanced:,} enrollments advanced "
        f"({a.steps:,} steps, {a.messages:,} messages queued, {a.completed:,} completed, {a.exited:,} exited)"
    )
    if done.sent is not None:
        sent = done.sent
        line += f"; sent {getattr(sent, 'sent', 0):,}, deferred {getattr(sent, 'deferred', 0):,}"
    return line


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
