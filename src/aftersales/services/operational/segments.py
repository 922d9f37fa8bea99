"""Saved segments: create, read, change and delete them, and read their members and sizes over time.

A definition is given in the text form (``where``) or the JSON form (``definition``) and stored in
both canonical spellings (``core.segments.to_json`` / ``to_text`` of one AST), so every reader gets
the form it wants and the stored definition never depends on how it was typed. A bad definition is
a ``DefinitionError`` (exit 2 / HTTP 422) and nothing is written. Names are unique among live
segments (``ConflictError``, 409). Deleting is soft: the segment stops being listed and refreshed,
its membership history stays. Members and sizes are those stored by the last refresh
(:func:`~aftersales.services.operational.segment_evaluation.refresh_memberships`, re-exported here
with :func:`preview`); a new or changed segment gets its members at the next refresh.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from aftersales.core.errors import ConflictError, FieldError, NotFoundError, UnusableInputError, ValidationError
from aftersales.core.segments import to_json, to_text
from aftersales.services.operational.cursors import decode_cursor, encode_cursor
from aftersales.services.operational.segment_evaluation import (
    PROFILES,
    MembershipRefresh,
    Preview,
    SegmentRefresh,
    preview,
    read_definition,
    refresh_memberships,
    segment_members,
)
from aftersales.services.ports import SegmentRecord, SegmentSizeRecord, UnitOfWork, UnitOfWorkFactory

__all__ = [
    "PROFILES",
    "MembershipRefresh",
    "Preview",
    "Segment",
    "SegmentRefresh",
    "create",
    "delete",
    "get",
    "list_segments",
    "members_page",
    "preview",
    "read_definition",
    "refresh_memberships",
    "segment_members",
    "sizes_page",
    "update",
]

MAX_NAME = 100
_UNSET: Any = object()


@dataclass(frozen=True)
class Segment:
    """A saved segment as readers see it: both spellings, and its size at the last refresh."""

    segment_id: str
    name: str
    description: str | None
    where: str
    definition: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    size: int | None = None
    refreshed_at: datetime | None = None
    deleted_at: datetime | None = None


def _check_name(name: str) -> str:
    problem = None
    if not name or not name.strip():
        problem = "must not be empty"
    elif name != name.strip():
        problem = "must not begin or end with spaces"
    elif len(name) > MAX_NAME:
        problem = f"must be at most {MAX_NAME} characters"
    elif any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        problem = "must not hold control characters"
    if problem:
        raise ValidationError(f"segment name {problem}", [FieldError(("name",), problem)])
    return name


def _view(record: SegmentRecord, size: SegmentSizeRecord | None) -> Segment:
    return Segment(
        segment_id=record.segment_id,
        name=record.name,
        description=record.description,
        where=record.definition_text,
        definition=json.loads(record.definition_json),
        created_at=record.created_at,
        updated_at=record.updated_at,
        size=size.size if size else None,
        refreshed_at=size.refreshed_at if size else None,
        deleted_at=record.deleted_at,
    )


# -- CRUD ----------------------------------------------------------------------------------------


def create(
    uow: UnitOfWorkFactory,
    name: str,
    *,
    where: str | None = None,
    definition: Any = None,
    description: str | None = None,
) -> Segment:
    """Save a segment (its members appear at the next refresh). ``ConflictError`` when the name is taken."""
    _check_name(name)
    condition = read_definition(where, definition)
    now = datetime.now(UTC)
    record = SegmentRecord(
        segment_id="seg_" + secrets.token_hex(8),
        name=name,
        definition_json=json.dumps(to_json(condition), separators=(",", ":")),
        definition_text=to_text(condition),
        description=description,
        created_at=now,
        updated_at=now,
    )
    with uow() as u:
        if u.segments.by_name(name) is not None:
            raise ConflictError(f"a segment named {name!r} exists already")
        u.segments.add(record)
    return _view(record, None)


def _find(u: UnitOfWork, ref: str) -> SegmentRecord:
    """A live segment by id, else by name."""
    record = u.segments.get(ref)
    if record is None or record.deleted_at is not None:
        record = u.segments.by_name(ref)
    if record is None:
        raise NotFoundError(f"no segment {ref!r}")
    return record


def get(uow: UnitOfWorkFactory, ref: str) -> Segment:
    """A live segment by id or name, with its size at the last refresh (``NotFoundError``)."""
    with uow() as u:
        record = _find(u, ref)
        return _view(record, u.segment_sizes.last(record.segment_id))


def list_segments(uow: UnitOfWorkFactory, *, limit: int | None = None, cursor: str | None = None) -> dict[str, Any]:
    """Live segments in id order: ``{"items": [Segment, ...], "next_cursor": ...}``."""
    after = str(decode_cursor(cursor, (str,))[0]) if cursor else None
    with uow() as u:
        records = u.segments.list(after=after, limit=None if limit is None else limit + 1)
        more = limit is not None and len(records) > limit
        records = records[:limit] if limit is not None else records
        items = [_view(r, u.segment_sizes.last(r.segment_id)) for r in records]
    return {"items": items, "next_cursor": encode_cursor([records[-1].segment_id]) if more else None}


def update(
    uow: UnitOfWorkFactory,
    ref: str,
    *,
    name: str | None = None,
    where: str | None = None,
    definition: Any = None,
    description: str | None = _UNSET,
) -> Segment:
    """Change a segment's name, definition or description (only what is given). A new definition
    takes effect at the next refresh, which diffs the members against it (and announces the changes)."""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = _check_name(name)
    if where is not None or definition is not None:
        condition = read_definition(where, definition)
        changes["definition_json"] = json.dumps(to_json(condition), separators=(",", ":"))
        changes["definition_text"] = to_text(condition)
    if description is not _UNSET:
        changes["description"] = description
    with uow() as u:
        record = _find(u, ref)
        if "name" in changes and changes["name"] != record.name and u.segments.by_name(changes["name"]):
            raise ConflictError(f"a segment named {changes['name']!r} exists already")
        if changes:
            record = replace(record, **changes, updated_at=datetime.now(UTC))
            u.segments.update(record)
        return _view(record, u.segment_sizes.last(record.segment_id))


def delete(uow: UnitOfWorkFactory, ref: str) -> Segment:
    """Delete a segment (softly: it is no longer listed or refreshed; its history is kept)."""
    with uow() as u:
        record = _find(u, ref)
        now = datetime.now(UTC)
        record = replace(record, deleted_at=now, updated_at=now)
        u.segments.update(record)
        return _view(record, u.segment_sizes.last(record.segment_id))


def members_page(uow: UnitOfWorkFactory, ref: str, *, limit: int = 100, cursor: str | None = None) -> dict[str, Any]:
    """The current members (as of the last refresh) in customer_id order: ``customer_id``, ``entered_at``."""
    after = str(decode_cursor(cursor, (str,))[0]) if cursor else None
    with uow() as u:
        record = _find(u, ref)
        rows = u.memberships.members(record.segment_id, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [{"customer_id": c, "entered_at": at} for c, at in rows]
    return {"items": items, "next_cursor": encode_cursor([rows[-1][0]]) if more else None}


def sizes_page(uow: UnitOfWorkFactory, ref: str, *, limit: int = 100, cursor: str | None = None) -> dict[str, Any]:
    """The segment's size after each refresh, oldest first (``refreshed_at``, ``size``, ``entered``, ``exited``)."""
    after = None
    if cursor:
        text = str(decode_cursor(cursor, (str,))[0])
        try:
            after = datetime.fromisoformat(text)
        except ValueError:
            after = None
        if after is None or after.tzinfo is None:
            raise UnusableInputError("invalid cursor: pass back next_cursor exactly as received")
    with uow() as u:
        record = _find(u, ref)
        rows = u.segment_sizes.list(record.segment_id, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [{"refreshed_at": r.refreshed_at, "size": r.size, "entered": r.entered, "exited": r.exited} for r in rows]
    return {"items": items, "next_cursor": encode_cursor([rows[-1].refreshed_at.isoformat()]) if more else None}
