"""The send-rate limit: sending slots shared by every worker through one row per transport.

A transport allows ``rate`` sends per second. Its ``send_pacing`` row holds ``next_free``, the start
of the first slot nobody has taken; slots follow one another every ``interval = ceil(1e6 / rate)``
microseconds (rounded *up*, so the slots of one second never exceed the rate). A worker at ``now``
wanting ``n`` sends takes the slots from ``base = max(next_free, now)`` that start before
``now + horizon`` (one second): ``granted = min(n, ceil((now + horizon - base) / interval))``, and
moves ``next_free`` to ``base + granted * interval``. Idle time earns no credit (``base`` is never
before ``now``), so a burst after a quiet hour is still one second's worth.

The move is a compare-and-set on the row (:meth:`MessageRepository.move_pacing`): of two workers
that read the same ``next_free`` one moves it and the other reads again, so N workers together take
each slot once and stay under the rate. Messages that got no slot stay ``queued`` with
``not_before = next_free``: they drain at the rate instead of failing.

>>> from datetime import UTC, datetime
>>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
>>> grant_slots(None, t0, 12, 5.0)
(5, datetime.datetime(2026, 1, 1, 0, 0, 1, tzinfo=datetime.timezone.utc))
>>> grant_slots(t0 + timedelta(seconds=1), t0, 12, 5.0)   # this second is taken
(0, datetime.datetime(2026, 1, 1, 0, 0, 1, tzinfo=datetime.timezone.utc))
>>> grant_slots(None, t0, 10, 3.0)[0]                     # 1/3 s rounds up: 3, never 4
3
>>> grant_slots(None, t0, 5, 100 / 3600)                  # 100 an hour: one now, the next in 36 s
(1, datetime.datetime(2026, 1, 1, 0, 0, 36, tzinfo=datetime.timezone.utc))
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from aftersales.services.ports_messages import MessageRepository

__all__ = ["HORIZON", "grant_slots", "interval", "reserve_slots"]

HORIZON = timedelta(seconds=1)


def interval(rate_per_s: float) -> timedelta:
    """The time between two slots at ``rate_per_s``, rounded up to the microsecond."""
    if not rate_per_s > 0:
        raise ValueError(f"the send rate must be positive, got {rate_per_s}")
    return timedelta(microseconds=math.ceil(1e6 / rate_per_s))


def grant_slots(
    next_free: datetime | None, now: datetime, wanted: int, rate_per_s: float, horizon: timedelta = HORIZON
) -> tuple[int, datetime]:
    """``(granted, new next_free)`` for ``wanted`` sends at ``now`` (the module's formula)."""
    step = interval(rate_per_s)
    base = now if next_free is None or next_free < now else next_free
    end = now + horizon
    if wanted <= 0 or base >= end:
        return 0, base
    granted = min(wanted, math.ceil((end - base) / step))
    return granted, base + granted * step


def reserve_slots(
    repo: MessageRepository, transport: str, now: datetime, wanted: int, rate_per_s: float
) -> tuple[int, datetime]:
    """Take up to ``wanted`` slots of ``transport`` (compare-and-set, retried when another worker
    moved the row first); returns ``(granted, next free slot)``."""
    while True:
        current = repo.pacing_slot(transport)
        granted, new = grant_slots(current, now, wanted, rate_per_s)
        if granted == 0:
            return 0, new
        if repo.move_pacing(transport, current, new):
            return granted, new
