"""The clock port: the one way the act plane's services learn the time (DESIGN.md, act plane).

Journeys wait days and weeks; a test or ``aftersales journeys simulate`` hands the services a
:class:`ManualClock` and moves it forward, so a 90-day journey runs in seconds. Production uses
:class:`SystemClock`. Core never reads a clock: services pass ``now`` into it.

>>> from datetime import UTC, datetime, timedelta
>>> clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
>>> clock.advance(timedelta(days=90)).date().isoformat()
'2026-04-01'
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, zone-aware, in UTC."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to (tests, simulations); safe to share between threads."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a zone-aware start time")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, by: timedelta) -> datetime:
        """Move forward by ``by`` (never backward) and return the new time."""
        if by < timedelta(0):
            raise ValueError("a clock does not run backward")
        with self._lock:
            self._now += by
            return self._now

    def set(self, when: datetime) -> datetime:
        """Jump to ``when`` (not earlier than now)."""
        with self._lock:
            if when.astimezone(UTC) < self._now:
                raise ValueError("a clock does not run backward")
            self._now = when.astimezone(UTC)
            return self._now
