"""Composition of the journey runtime (docs/journeys.md, "The engine: workers, leases, time").

* :func:`journey_worker`: a :class:`~aftersales.services.operational.journeys.worker.Worker` on a
  unit of work, with the settings' default zone for customers without one and, unless told
  otherwise, the delivery's sender (``bootstrap/delivery.py``: the settings' e-mail transport and
  the guarded webhook sender) as its last step;
* :func:`open_worker`: the same on the store ``db`` (its own engine), for ``aftersales worker``;
* :func:`embedded_worker`: the worker ``aftersales serve`` runs in a thread beside the API;
* :func:`simulate_journey`, :func:`start_journey`: ``aftersales journeys simulate`` and ``start``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aftersales.config import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from aftersales.bootstrap import ServicePlane
    from aftersales.services.clock import Clock
    from aftersales.services.operational.journeys.enroll import Entered
    from aftersales.services.operational.journeys.simulate import Simulation
    from aftersales.services.operational.journeys.worker import Worker, WorkerOptions
    from aftersales.services.ports import UnitOfWorkFactory

__all__ = [
    "WorkerHandle",
    "embedded_worker",
    "journey_worker",
    "open_worker",
    "simulate_journey",
    "start_journey",
    "worker_options",
]


def worker_options(settings: Settings | None = None, **overrides: Any) -> WorkerOptions:
    """The worker's pacing with the settings' ``default_timezone`` (``overrides``: any field)."""
    from aftersales.services.operational.journeys.worker import WorkerOptions

    s = settings or get_settings()
    return WorkerOptions(**{"default_timezone": s.default_timezone, **overrides})


@dataclass
class WorkerHandle:
    """A worker with what it holds (its sender's transports, its own engine): :meth:`close` releases them."""

    worker: Worker
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self.closers):
            close()
        self.closers.clear()


def journey_worker(
    uow: UnitOfWorkFactory,
    *,
    clock: Clock | None = None,
    settings: Settings | None = None,
    send: bool = True,
    options: WorkerOptions | None = None,
) -> WorkerHandle:
    """A worker on ``uow`` (see the module); ``send=False`` leaves sending to another process."""
    from aftersales.services.clock import SystemClock
    from aftersales.services.operational.journeys.worker import Worker

    s = settings or get_settings()
    clock = clock or SystemClock()
    sender = None
    closers: list[Callable[[], None]] = []
    if send:
        from aftersales.bootstrap.delivery import delivery_sender

        sender = delivery_sender(uow, clock, s)
        closers.append(sender.close)
    worker = Worker(uow, clock, options=options or worker_options(s), send=sender)
    return WorkerHandle(worker, closers)


def _engine(db: str | None) -> Engine:
    from aftersales import bootstrap
    from aftersales.adapters.sql.engine import make_engine

    url = bootstrap.database_url(db)
    return make_engine(url) if url.startswith("sqlite") else make_engine(url, pool_size=4, max_overflow=4)


def open_worker(db: str | None = None, *, poll_s: float | None = None, send: bool = True) -> WorkerHandle:
    """A worker on the store ``db`` (``--db`` or the settings' URL) with its own engine."""
    from aftersales.adapters.sql.repositories import unit_of_work_factory

    engine = _engine(db)
    s = get_settings()
    options = worker_options(s, **({"poll_s": poll_s} if poll_s is not None else {}))
    handle = journey_worker(unit_of_work_factory(engine), settings=s, send=send, options=options)
    handle.closers.insert(0, engine.dispose)
    return handle


def embedded_worker(plane: ServicePlane, settings: Settings) -> WorkerHandle:
    """The worker ``aftersales serve`` runs beside the API, on the API's store (``--no-worker``: none)."""
    return journey_worker(plane.uow, settings=settings)


def simulate_journey(
    name: str, days: float, *, db: str | None = None, start: datetime | None = None, sample: int = 20
) -> Simulation:
    """``aftersales journeys simulate``: the preview of ``name`` over ``days`` days from ``start``
    (default: now), reading the store ``db`` and writing nothing."""
    from aftersales.adapters.sql.repositories import unit_of_work_factory
    from aftersales.services.operational.journeys.simulate import simulate

    engine = _engine(db)
    now = datetime.now(UTC)
    try:
        return simulate(
            unit_of_work_factory(engine),
            name,
            days,
            start_at=start or now,
            now=now,
            default_zone=get_settings().default_timezone,
            sample=sample,
        )
    finally:
        engine.dispose()


def start_journey(name: str, *, segment: str | None = None, key: str = "start", db: str | None = None) -> Entered:
    """``aftersales journeys start``: enroll a segment's current members (default: the journey's
    audience) into the active journey ``name`` now."""
    from aftersales.adapters.sql.repositories import unit_of_work_factory
    from aftersales.services.operational.journeys.enroll import enroll_segment

    engine = _engine(db)
    try:
        return enroll_segment(unit_of_work_factory(engine), name, datetime.now(UTC), segment=segment, key=key)
    finally:
        engine.dispose()
