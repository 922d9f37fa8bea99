"""Journey definitions: validate, apply (create, or a new version), list, show, pause, resume, archive.

A document (YAML text or its JSON mapping) is parsed by the pure core
(:func:`aftersales.core.journeys.parse_journey`); a bad one is a ``ValidationError`` whose
``FieldError`` locations are JSON paths into the document, and nothing is written. The stored
definition is the core's canonical document (:func:`~aftersales.core.journeys.journey_to_doc`)
as compact JSON with sorted keys, so the same journey written two ways is stored the same way.

**Apply** creates the journey (``jny_<hex>``, version 1, a fresh random ``salt``) or, when the
canonical document differs from the stored one, writes version n+1; an unchanged document writes
nothing (applying a file twice is harmless). A change that would move customers between arms or
variants under the same salt (the holdout share, or a split step's variants or weights, see
:func:`~aftersales.core.experiments.assignment.check_reassignment`) is refused unless ``reassign``
is given, which draws a new salt: every later assignment is drawn afresh, so the report must compare
only enrollments after the change. Enrollments already running keep their arm, and the variants they
already took.

**Status**: ``active`` (new enrollments, steps advance), ``paused`` (no new enrollments, no step
advances; queued messages stay queued, not cancelled), ``archived`` (final: active enrollments end
with ``exit_reason`` "journey archived" and their queued messages are cancelled, in the same
transaction, so a customer removed from a journey receives nothing more from it). ``activated_at``
is set the first time a journey becomes active (at creation, or at the first resume of a journey
created paused); trigger facts older than it (less the trigger's look-back) enroll nobody. Names
stay taken after archiving (the archived journey's enrollments and report keep it).

Time comes from the clock port (``services/clock.py``): tests and simulations pass a manual clock.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from aftersales.core.errors import ConflictError, FieldError, NotFoundError, ValidationError
from aftersales.core.experiments.assignment import Experiment, check_reassignment
from aftersales.core.journeys import Journey, SplitStep, journey_to_doc, load_journey_yaml, parse_journey
from aftersales.services.clock import Clock, SystemClock
from aftersales.services.operational.cursors import decode_cursor, encode_cursor
from aftersales.services.ports import UnitOfWork, UnitOfWorkFactory
from aftersales.services.ports_journeys import JOURNEY_STATUSES, JourneyRecord

__all__ = [
    "ARCHIVED_REASON",
    "JOURNEY_STATUSES",
    "Applied",
    "Archived",
    "StoredJourney",
    "apply",
    "apply_at",
    "archive",
    "canonical_json",
    "create",
    "get",
    "journey_of",
    "list_journeys",
    "parse_document",
    "pause",
    "rebucketing_changes",
    "resume",
    "trigger_summary",
]

ARCHIVED_REASON = "journey archived"


@dataclass(frozen=True)
class StoredJourney:
    """A journey as readers see it: its definition (the canonical document), version, status, times,
    and (from :func:`get`) its enrollments and messages counted by status."""

    journey_id: str
    name: str
    version: int
    status: str
    description: str
    category: str
    trigger: str
    definition: dict[str, Any]
    salt: str
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None
    scanned_until: datetime | None
    enrollments: dict[str, int] = field(default_factory=dict)
    messages: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Applied:
    """What :func:`apply` did: ``created``, ``changed`` (a new version) or ``unchanged`` (nothing
    written); ``reassigned`` when a new salt was drawn; ``notes`` for the person applying (a missing
    audience segment, the new salt's consequence)."""

    journey: StoredJourney
    outcome: Literal["created", "changed", "unchanged"]
    previous_version: int | None
    reassigned: bool
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Archived:
    """An archived journey and what archiving it stopped (0 and 0 when it was archived already)."""

    journey: StoredJourney
    enrollments_ended: int
    messages_cancelled: int


# -- documents -----------------------------------------------------------------------------------


def parse_document(document: Mapping[str, Any] | str, *, source: str = "<string>") -> Journey:
    """The journey a document defines: a mapping (the JSON form) or YAML text (JSON is YAML too).
    ``ValidationError`` locating each problem (YAML syntax errors by line and column, ``source``
    naming the file)."""
    if isinstance(document, str):
        return load_journey_yaml(document, source)
    return parse_journey(document)


def canonical_json(journey: Journey) -> str:
    """The stored form: the canonical document as compact JSON with sorted keys."""
    return json.dumps(journey_to_doc(journey), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@lru_cache(maxsize=256)
def _parse_stored(definition_json: str) -> Journey:
    return parse_journey(json.loads(definition_json))


def journey_of(record: JourneyRecord) -> Journey:
    """The parsed definition of a stored journey (cached by its text: a worker reads it every round)."""
    return _parse_stored(record.definition_json)


def trigger_summary(definition: Mapping[str, Any]) -> str:
    """The trigger in a few words, for lists: ``order.delivered`` or ``date: warranty_ends_on -30d``.

    >>> trigger_summary({"trigger": {"event": "order.delivered"}})
    'order.delivered'
    >>> trigger_summary({"trigger": {"date": {"rule": "no_order_for", "days": 120}}})
    'date: no_order_for 120'
    """
    trigger = definition.get("trigger") or {}
    if "event" in trigger:
        return str(trigger["event"])
    rule = dict(trigger.get("date") or {})
    head = rule.pop("field", None) or rule.pop("rule", "?")
    return " ".join(["date:", str(head), *(str(v) for v in rule.values())])


# -- reading -------------------------------------------------------------------------------------


def _view(record: JourneyRecord, counts: tuple[dict[str, int], dict[str, int]] = ({}, {})) -> StoredJourney:
    definition = json.loads(record.definition_json)
    return StoredJourney(
        journey_id=record.journey_id,
        name=record.name,
        version=record.version,
        status=record.status,
        description=str(definition.get("description") or ""),
        category=str(definition.get("category") or "marketing"),
        trigger=trigger_summary(definition),
        definition=definition,
        salt=record.salt,
        created_at=record.created_at,
        updated_at=record.updated_at,
        activated_at=record.activated_at,
        scanned_until=record.scanned_until,
        enrollments=counts[0],
        messages=counts[1],
    )


def _find(u: UnitOfWork, ref: str, *, for_update: bool = False) -> JourneyRecord:
    """A journey by id (``jny_...``), else by name."""
    record = u.journeys.get(ref, for_update=for_update) or u.journeys.by_name(ref, for_update=for_update)
    if record is None:
        raise NotFoundError(f"no journey {ref!r}")
    return record


def _counted(u: UnitOfWork, record: JourneyRecord) -> StoredJourney:
    counts = (u.journeys.enrollment_counts(record.journey_id), u.journeys.message_counts(record.journey_id))
    return _view(record, counts)


def get(uow: UnitOfWorkFactory, ref: str) -> StoredJourney:
    """One journey by id or name, with its enrollments and messages counted by status (``NotFoundError``)."""
    with uow() as u:
        return _counted(u, _find(u, ref))


def _check_statuses(statuses: Sequence[str] | None) -> None:
    unknown = [s for s in statuses or () if s not in JOURNEY_STATUSES]
    if unknown:
        message = f"unknown status {unknown[0]!r} (one of {', '.join(JOURNEY_STATUSES)})"
        raise ValidationError(message, [FieldError(("status",), message)])


def list_journeys(
    uow: UnitOfWorkFactory,
    *,
    statuses: Sequence[str] | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Journeys in name order (all statuses unless ``statuses``): ``{"items": [...], "next_cursor": ...}``."""
    _check_statuses(statuses)
    after = str(decode_cursor(cursor, (str,))[0]) if cursor else None
    with uow() as u:
        records = u.journeys.list(statuses=statuses, after=after, limit=None if limit is None else limit + 1)
    more = limit is not None and len(records) > limit
    records = records[:limit] if limit is not None else records
    return {"items": [_view(r) for r in records], "next_cursor": encode_cursor([records[-1].name]) if more else None}


# -- apply ---------------------------------------------------------------------------------------


def _split_experiment(journey: Journey, step: SplitStep, salt: str) -> Experiment:
    """The experiment a split step draws its variants from (the core's key: ``<journey>:<step>``)."""
    names = tuple(v.name for v in step.variants)
    return Experiment(f"{journey.name}:{step.id}", names, tuple(v.weight for v in step.variants), salt=salt)


def rebucketing_changes(old: Journey, new: Journey, salt: str) -> list[str]:
    """What in a change would move customers between the journey and its holdout, or between a
    split's variants, were the salt kept (splits are matched by step id; a new or removed split moves
    nobody already assigned)."""
    changes = []
    if old.holdout != new.holdout:
        changes.append(f"holdout {old.holdout:g} -> {new.holdout:g}")
    before = {s.id: s for s in old.steps if isinstance(s, SplitStep)}
    for step in new.steps:
        if isinstance(step, SplitStep) and step.id in before:
            try:
                check_reassignment(_split_experiment(old, before[step.id], salt), _split_experiment(new, step, salt))
            except ConflictError:
                changes.append(f"split {step.id!r}: variants or weights changed")
    return changes


def _now(clock: Clock | None) -> datetime:
    return (clock or SystemClock()).now()


def _audience_note(u: UnitOfWork, journey: Journey) -> tuple[str, ...]:
    if journey.audience is not None and u.segments.by_name(journey.audience) is None:
        return (f"audience segment {journey.audience!r} does not exist (yet): nobody enters until it does",)
    return ()


def _create(u: UnitOfWork, journey: Journey, text: str, now: datetime, paused: bool) -> Applied:
    record = JourneyRecord(
        journey_id="jny_" + secrets.token_hex(8),
        name=journey.name,
        version=1,
        definition_json=text,
        status="paused" if paused else "active",
        salt=secrets.token_hex(8),
        created_at=now,
        updated_at=now,
        activated_at=None if paused else now,
    )
    u.journeys.add(record)
    return Applied(_counted(u, record), "created", None, False, _audience_note(u, journey))


def apply(
    uow: UnitOfWorkFactory,
    document: Mapping[str, Any] | Journey,
    *,
    reassign: bool = False,
    paused: bool = False,
    clock: Clock | None = None,
) -> Applied:
    """Create the journey, or store a new version when its document changed (nothing when not).

    ``paused`` creates it paused (no effect on an existing journey: pause and resume change status).
    ``ConflictError`` when the journey is archived, or when the change would re-bucket customers and
    ``reassign`` is not given (``reassign`` then draws a new salt)."""
    journey = document if isinstance(document, Journey) else parse_journey(document)
    text = canonical_json(journey)
    now = _now(clock)
    with uow() as u:
        record = u.journeys.by_name(journey.name, for_update=True)
        if record is None:
            return _create(u, journey, text, now, paused)
        if record.status == "archived":
            raise ConflictError(
                f"journey {journey.name!r} is archived; its name stays with its enrollments and report: "
                "apply the document under a new name"
            )
        if record.definition_json == text:
            return Applied(_counted(u, record), "unchanged", record.version, False, _audience_note(u, journey))
        notes = list(_audience_note(u, journey))
        changes = rebucketing_changes(journey_of(record), journey, record.salt)
        salt = record.salt
        if changes and not reassign:
            raise ConflictError(
                f"journey {journey.name!r}: {'; '.join(changes)} would move customers between the journey and "
                "its holdout or between variants; apply with reassign (CLI --reassign, API ?reassign=true) to "
                "draw a new salt"
            )
        if changes:
            salt = secrets.token_hex(8)
            notes.append(
                f"new salt drawn ({'; '.join(changes)}): holdout and split assignments start afresh; compare only "
                f"enrollments from {now.isoformat()} on"
            )
        updated = replace(record, version=record.version + 1, definition_json=text, salt=salt, updated_at=now)
        u.journeys.update(updated)
        return Applied(_counted(u, updated), "changed", record.version, bool(changes), tuple(notes))


def apply_at(
    uow: UnitOfWorkFactory,
    ref: str,
    document: Mapping[str, Any] | Journey,
    *,
    reassign: bool = False,
    paused: bool = False,
    clock: Clock | None = None,
) -> Applied:
    """:func:`apply` at an address (the API's ``PUT /v1/journeys/{ref}``): ``ref`` is the id or name of
    the journey the document must define, or the name of a new one. A journey is never renamed: a
    document naming another journey is a ``ValidationError`` at ``name``."""
    journey = document if isinstance(document, Journey) else parse_journey(document)
    with uow() as u:
        record = u.journeys.get(ref) or u.journeys.by_name(ref)
    expected = record.name if record is not None else ref
    if journey.name != expected:
        message = (
            f"must be {expected!r}, the journey this address names (a journey is not renamed: apply the "
            "document under its new name, then archive the old journey)"
        )
        raise ValidationError(f"name {message}", [FieldError(("name",), message)])
    return apply(uow, journey, reassign=reassign, paused=paused, clock=clock)


def create(
    uow: UnitOfWorkFactory, document: Mapping[str, Any] | Journey, *, paused: bool = False, clock: Clock | None = None
) -> Applied:
    """Create a new journey only (``ConflictError`` when the name is taken): the API's ``POST``."""
    journey = document if isinstance(document, Journey) else parse_journey(document)
    text = canonical_json(journey)
    with uow() as u:
        if u.journeys.by_name(journey.name) is not None:
            raise ConflictError(f"a journey named {journey.name!r} exists already (PUT /v1/journeys/{journey.name})")
        return _create(u, journey, text, _now(clock), paused)


# -- status --------------------------------------------------------------------------------------


def _archived(record: JourneyRecord, action: str) -> ConflictError:
    return ConflictError(f"journey {record.name!r} is archived; it cannot be {action}")


def pause(uow: UnitOfWorkFactory, ref: str, *, clock: Clock | None = None) -> StoredJourney:
    """Stop enrolling and advancing (queued messages stay queued); a paused journey stays as it is."""
    with uow() as u:
        record = _find(u, ref, for_update=True)
        if record.status == "archived":
            raise _archived(record, "paused")
        if record.status == "active":
            record = replace(record, status="paused", updated_at=_now(clock))
            u.journeys.update(record)
        return _counted(u, record)


def resume(uow: UnitOfWorkFactory, ref: str, *, clock: Clock | None = None) -> StoredJourney:
    """Enroll and advance again (an active journey stays as it is); the first activation is stamped."""
    with uow() as u:
        record = _find(u, ref, for_update=True)
        if record.status == "archived":
            raise _archived(record, "resumed")
        if record.status == "paused":
            now = _now(clock)
            record = replace(record, status="active", updated_at=now, activated_at=record.activated_at or now)
            u.journeys.update(record)
        return _counted(u, record)


def archive(uow: UnitOfWorkFactory, ref: str, *, clock: Clock | None = None) -> Archived:
    """Archive for good: end the active enrollments ("journey archived") and cancel the queued
    messages in the same transaction. Archiving an archived journey changes nothing."""
    with uow() as u:
        record = _find(u, ref, for_update=True)
        if record.status == "archived":
            return Archived(_counted(u, record), 0, 0)
        now = _now(clock)
        record = replace(record, status="archived", updated_at=now)
        u.journeys.update(record)
        stopped = u.journeys.stop(record.journey_id, now, ARCHIVED_REASON)
        return Archived(_counted(u, record), stopped.enrollments, stopped.messages)
