"""Reading a journey's enrollments, and taking a customer out of a journey.

A list runs in enrollment id order and continues after the last id it returned (the API's opaque
cursor, ``services/operational/cursors.py``). :func:`remove` ends an active enrollment (``exited``,
``exit_reason`` "removed") and cancels its queued messages in the same transaction; a worker
holding it at that moment cannot write its step any more (its lease is gone), so the customer
receives nothing more from the journey.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from aftersales.core.errors import ConflictError, NotFoundError, ValidationError
from aftersales.services.operational.cursors import decode_cursor, encode_cursor
from aftersales.services.ports import UnitOfWork, UnitOfWorkFactory
from aftersales.services.ports_enrollments import ENROLLMENT_STATUSES, EnrollmentRecord
from aftersales.services.ports_journeys import JourneyRecord

__all__ = ["REMOVED", "enrollment_view", "enrollments_page", "find_journey", "remove"]

REMOVED = "removed"


def find_journey(u: UnitOfWork, ref: str, *, for_update: bool = False) -> JourneyRecord:
    """The journey ``ref`` names (its id, else its name; ``NotFoundError``), locked when ``for_update``."""
    record = u.journeys.get(ref, for_update=for_update) or u.journeys.by_name(ref, for_update=for_update)
    if record is None:
        raise NotFoundError(f"no journey {ref!r}")
    return record


def enrollment_view(e: EnrollmentRecord) -> dict[str, Any]:
    """An enrollment as the API and CLI show it (trigger properties and variants as objects)."""
    out = asdict(e)
    out["trigger"], out["variants"] = dict(e.trigger), dict(e.variants)
    return out


def enrollments_page(
    uow: UnitOfWorkFactory, ref: str, *, status: str | None = None, limit: int = 100, cursor: str | None = None
) -> dict[str, Any]:
    """One page of the journey's enrollments (``ref``: id or name), with ``next_cursor`` when more follow."""
    if status is not None and status not in ENROLLMENT_STATUSES:
        raise ValidationError(f"unknown enrollment status {status!r}; use one of {', '.join(ENROLLMENT_STATUSES)}")
    after = str(decode_cursor(cursor, (str,))[0]) if cursor is not None else None
    with uow() as u:
        record = find_journey(u, ref)
        rows = u.enrollments.list(record.journey_id, status=status, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [enrollment_view(e) for e in rows],
        "next_cursor": encode_cursor([rows[-1].enrollment_id]) if more and rows else None,
    }


def remove(uow: UnitOfWorkFactory, ref: str, enrollment_id: str, now: datetime) -> EnrollmentRecord:
    """Take the customer of enrollment ``enrollment_id`` out of journey ``ref`` (module docstring);
    ``ConflictError`` when the enrollment is not active any more."""
    with uow() as u:
        record = find_journey(u, ref)
        found = u.enrollments.get(enrollment_id)
        if found is None or found.journey_id != record.journey_id:
            raise NotFoundError(f"no enrollment {enrollment_id!r} in journey {record.name!r}")
        if not u.enrollments.remove(enrollment_id, now, REMOVED):
            raise ConflictError(f"enrollment {enrollment_id!r} is {found.status}, not active")
        after = u.enrollments.get(enrollment_id)
    assert after is not None
    return after
