"""In-memory fakes of the segment ports (``SegmentRepository``, ``SegmentMembershipRepository``,
``SegmentSizeRepository``), kept beside ``fakes.py`` (which loads this file by path and holds a
:class:`SegmentState` in its ``State``). They keep the SQL repositories' rules: live names unique
(``ConflictError``), lists in key order strictly after a key, entering keeps a stored row, exiting
closes open rows only, a second size at one refresh time is not stored."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

import pyarrow as pa

from aftersales.core.errors import ConflictError
from aftersales.services.ports import SegmentRecord, SegmentSizeRecord

__all__ = ["FakeSegmentMembershipRepository", "FakeSegmentRepository", "FakeSegmentSizeRepository", "SegmentState"]


@dataclass
class SegmentState:
    segments: dict[str, SegmentRecord] = field(default_factory=dict)
    # (segment_id, customer_id, entered_at) -> exited_at
    memberships: dict[tuple[str, str, datetime], datetime | None] = field(default_factory=dict)
    sizes: dict[tuple[str, datetime], SegmentSizeRecord] = field(default_factory=dict)


class FakeSegmentRepository:
    def __init__(self, state: SegmentState) -> None:
        self._s = state

    def _taken(self, segment: SegmentRecord) -> bool:
        return segment.deleted_at is None and any(
            s.name == segment.name and s.deleted_at is None and s.segment_id != segment.segment_id
            for s in self._s.segments.values()
        )

    def add(self, segment: SegmentRecord) -> None:
        if self._taken(segment) or segment.segment_id in self._s.segments:
            raise ConflictError(f"a segment named {segment.name!r} exists already")
        self._s.segments[segment.segment_id] = segment

    def get(self, segment_id: str) -> SegmentRecord | None:
        return self._s.segments.get(segment_id)

    def by_name(self, name: str) -> SegmentRecord | None:
        return next((s for s in self._s.segments.values() if s.name == name and s.deleted_at is None), None)

    def list(self, *, after: str | None = None, limit: int | None = None) -> list[SegmentRecord]:
        live = [s for i, s in sorted(self._s.segments.items()) if s.deleted_at is None and (after is None or i > after)]
        return live if limit is None else live[:limit]

    def update(self, segment: SegmentRecord) -> None:
        if self._taken(segment):
            raise ConflictError(f"a segment named {segment.name!r} exists already")
        self._s.segments[segment.segment_id] = replace(segment)


class FakeSegmentMembershipRepository:
    def __init__(self, state: SegmentState) -> None:
        self._s = state

    def _open(self, segment_id: str) -> dict[str, tuple[str, str, datetime]]:
        return {k[1]: k for k, out in self._s.memberships.items() if k[0] == segment_id and out is None}

    def current(self, segment_id: str) -> pa.Array:
        return pa.array(sorted(self._open(segment_id)), type=pa.string())

    def enter(self, segment_id: str, customer_ids: pa.Array, at: datetime) -> int:
        new = [(segment_id, c, at) for c in customer_ids.to_pylist() if (segment_id, c, at) not in self._s.memberships]
        self._s.memberships.update(dict.fromkeys(new))
        return len(new)

    def exit(self, segment_id: str, customer_ids: pa.Array, at: datetime) -> int:
        open_rows = self._open(segment_id)
        keys = [open_rows[c] for c in customer_ids.to_pylist() if c in open_rows]
        self._s.memberships.update(dict.fromkeys(keys, at))
        return len(keys)

    def members(self, segment_id: str, *, after: str | None, limit: int) -> list[tuple[str, datetime]]:
        rows = sorted((c, k[2]) for c, k in self._open(segment_id).items() if after is None or c > after)
        return rows[:limit]


class FakeSegmentSizeRepository:
    def __init__(self, state: SegmentState) -> None:
        self._s = state

    def add(self, size: SegmentSizeRecord) -> bool:
        key = (size.segment_id, size.refreshed_at)
        if key in self._s.sizes:
            return False
        self._s.sizes[key] = size
        return True

    def last(self, segment_id: str) -> SegmentSizeRecord | None:
        mine = [s for (i, _), s in sorted(self._s.sizes.items()) if i == segment_id]
        return mine[-1] if mine else None

    def list(self, segment_id: str, *, after: datetime | None, limit: int) -> list[SegmentSizeRecord]:
        mine = [s for (i, at), s in sorted(self._s.sizes.items()) if i == segment_id and (after is None or at > after)]
        return mine[:limit]
