"""The journey worker: rounds of scan, wake, advance and send, on one clock.

A round (:meth:`Worker.run_once`), each part in its own short transactions:

1. the journeys are listed; a paused one has its trigger cursor moved along (it enrolls nobody,
   :func:`.enroll.skip_paused`); an archived one is never touched;
2. each active journey is scanned (:func:`.enroll.scan_journey`: trigger facts to enrollments, and
   waking the enrollments waiting for an event that arrived). A scan reads from the journey's cursor
   on; every ``rescan_every`` it reaches ``overlap`` further back, for facts stored late (reading the
   overlap every second would re-read ten minutes of a busy trigger's facts each round). Date-rule
   journeys are scanned at most every ``date_scan_every`` (their rules have day precision and their
   scan reads many rows); a journey whose scan fails is logged and skipped, so one broken journey
   stalls no other;
3. due enrollments are advanced in batches of ``batch`` (:func:`.advance.advance_due`) until fewer
   than a full batch is due, or ``max_batches`` were taken (then sending gets its turn and the next
   round continues);
4. the outbox is sent: ``send`` is the delivery's ``send_due`` bound to its transports, injected by
   bootstrap (absent: this worker only decides, another process sends).

**Time** comes from the clock port (``services/clock.py``): production passes the system clock;
tests and ``aftersales demo`` pass a :class:`~aftersales.services.clock.ManualClock` and move it,
so a 90-day journey runs in seconds through the real store. Leases are measured on the same clock.

**Several workers.** On PostgreSQL any number of workers (threads, processes, machines) share the
work: a journey's scan locks its row (``SKIP LOCKED``: a busy one is skipped, not waited for), and
claims skip rows another worker is claiming. On SQLite, writers take turns on the database's one
write lock: run one worker (more are safe, not faster).

**An unreachable store.** :meth:`Worker.run_forever` logs a failed round as one warning line and
backs off, ``poll_s * 2**k`` after the k-th failure in a row, at most ``max_backoff_s``; recovery is
logged once. A round that found a full batch starts the next one at once; an idle one waits
``poll_s`` (or until :meth:`Worker.wake`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from aftersales.core.journeys import DateTrigger
from aftersales.services.clock import Clock
from aftersales.services.operational.journeys.advance import DEFAULT_LEASE, Advanced, advance_due
from aftersales.services.operational.journeys.definitions import journey_of
from aftersales.services.operational.journeys.enroll import DEFAULT_OVERLAP, ScanResult, scan_journey, skip_paused
from aftersales.services.ports import UnitOfWorkFactory

__all__ = ["Round", "Worker", "WorkerOptions"]

log = logging.getLogger("aftersales.journeys")


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker paces itself (module docstring)."""

    batch: int = 500
    max_batches: int = 40
    lease: timedelta = DEFAULT_LEASE
    overlap: timedelta = DEFAULT_OVERLAP
    rescan_every: timedelta = timedelta(minutes=1)
    date_scan_every: timedelta = timedelta(minutes=15)
    default_timezone: str = "UTC"
    poll_s: float = 1.0
    max_backoff_s: float = 60.0


@dataclass(frozen=True)
class Round:
    """What one round did (``sent``: what the injected sender returned, None without one)."""

    at: datetime
    scanned: int = 0
    enrolled: int = 0
    held_out: int = 0
    woken: int = 0
    advanced: Advanced = field(default_factory=Advanced)
    failed_scans: tuple[str, ...] = ()
    full: bool = False
    sent: object | None = None

    @property
    def busy(self) -> bool:
        """Whether work may be left: the last batch was full, or something was enrolled or woken."""
        return self.full or self.enrolled > 0 or self.woken > 0


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def _add(a: Advanced, b: Advanced) -> Advanced:
    return Advanced(*(x + y for x, y in zip(vars(a).values(), vars(b).values(), strict=True)))


class Worker:
    """Runs journeys on the store (see the module)."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        options: WorkerOptions | None = None,
        send: Callable[[], object] | None = None,
        name: str = "journey-worker",
    ) -> None:
        self._uow, self.clock, self.options, self._send, self.name = uow, clock, options or WorkerOptions(), send, name
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._rescanned: dict[str, datetime] = {}  # journey -> when this worker last read its overlap

    # -- one round --------------------------------------------------------------------------------

    def run_once(self, now: datetime | None = None) -> Round:
        """One round at ``now`` (default: the clock's time)."""
        at = now if now is not None else self.clock.now()
        opts = self.options
        with self._uow() as u:
            records = u.journeys.list(statuses=("active", "paused"))
        active: list[str] = []
        scans: list[ScanResult] = []
        failed: list[str] = []
        for record in records:
            if record.status == "paused":
                if record.scanned_until is None or at - record.scanned_until > opts.overlap:
                    skip_paused(self._uow, record, at)
                continue
            if record.activated_at is None:
                continue
            try:
                journey = journey_of(record)
                active.append(record.journey_id)
                recent = record.scanned_until is not None and at - record.scanned_until < opts.date_scan_every
                if isinstance(journey.trigger, DateTrigger) and recent:
                    continue
                last = self._rescanned.get(record.journey_id)
                rescan = last is None or at - last >= opts.rescan_every or at < last
                result = scan_journey(self._uow, record, at, overlap=opts.overlap if rescan else timedelta(0))
                if rescan and result is not None:
                    self._rescanned[record.journey_id] = at
            except Exception as exc:  # noqa: BLE001 - one broken journey must not stall the others
                log.warning("journey %s: trigger scan failed (%s)", record.name, _one_line(exc))
                failed.append(record.journey_id)
                continue
            if result is not None:
                scans.append(result)
        advanced, full = Advanced(), False
        for _ in range(opts.max_batches):
            batch = advance_due(
                self._uow, active, at, default_zone=opts.default_timezone, limit=opts.batch, lease=opts.lease
            )
            advanced = _add(advanced, batch)
            full = batch.claimed >= opts.batch
            if not full:
                break
        done = Round(
            at,
            scanned=len(scans),
            enrolled=sum(s.enrolled for s in scans),
            held_out=sum(s.held_out for s in scans),
            woken=sum(s.woken for s in scans),
            advanced=advanced,
            failed_scans=tuple(failed),
            full=full,
        )
        return replace(done, sent=self._send()) if self._send is not None else done

    # -- running ----------------------------------------------------------------------------------

    def run_forever(self, stop: threading.Event) -> None:
        """Run rounds until ``stop`` is set (module docstring: pacing and backoff)."""
        opts, failures = self.options, 0
        while not stop.is_set():
            self._wake.clear()
            try:
                done = self.run_once()
            except Exception as exc:  # noqa: BLE001 - any failure of a round: log one line, back off
                failures += 1
                if failures == 1:
                    log.warning("%s paused, store unreachable (%s); retrying with backoff", self.name, _one_line(exc))
                stop.wait(min(opts.max_backoff_s, opts.poll_s * 2**failures))
                continue
            if failures:
                log.warning("%s resumed after %d failed rounds", self.name, failures)
                failures = 0
            if not done.busy:
                self._wake.wait(opts.poll_s)

    def wake(self) -> None:
        """Start the next round now instead of after ``poll_s``."""
        self._wake.set()

    def start(self) -> None:
        """Run in a background thread (``aftersales serve``'s embedded worker) until :meth:`stop`."""
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, args=(self._stop,), name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the round in progress (waiting up to ``timeout`` s for it)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout)
