"""Reading and evaluating segment definitions: preview one, refresh the memberships of all.

**Reading.** A definition comes in either spelling of the segment language (docs/segments.md): the
text form (``where``, from the CLI) or the JSON form (``definition``, from the API); both parse into
one AST (``core.segments``). A bad definition is a :class:`~aftersales.core.segments.DefinitionError`
(exit 2 / HTTP 422) naming the field or the position, whose message ends with the valid fields.

**Evaluation** runs in the engine: the AST compiles to one Ibis boolean expression over
``customer_profiles`` and the behaviour tables it names (``core.segments.compile``), so a preview or
a refresh runs on DuckDB, PostgreSQL or Spark alike. :func:`preview` counts the members and returns
the first ``limit`` of them by customer id (with the fields the definition reads), saving nothing.

**Refresh** (:func:`refresh_memberships`, called by ``aftersales refresh`` after the profiles are
rebuilt): every live segment is evaluated in one query over the profiles (one boolean column per
segment, one scan), then each segment, in its own transaction, diffs its members against its open
membership rows (``segment_changes.membership_changes``: Arrow set operations), opens and closes
membership rows at ``now``, stores a ``segment_sizes`` row, inserts one ``segment.entered`` /
``segment.exited`` event per change into ``events`` (deterministic ids) and queues the matching
webhooks (the outbox: only committed changes are announced). A refresh retried at the same ``now``
finds nothing to change and writes nothing twice; a ``now`` before a segment's last refresh is
refused (``ConflictError``), since membership intervals must not overlap. A segment whose definition
cannot run on this source (a behaviour table it lacks) is skipped and reported; the others are
refreshed. The first refresh of a segment announces every member as entered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from aftersales.core.errors import (
    ConflictError,
    ContractError,
    FieldError,
    MissingColumnError,
    MissingTableError,
    ValidationError,
)
from aftersales.core.events import SEGMENT_ENTERED, SEGMENT_EXITED
from aftersales.core.segments import (
    FIELDS,
    BehaviourTables,
    Condition,
    DefinitionError,
    compile_condition,
    from_json,
    parse,
    required_tables,
    to_json,
    to_text,
)
from aftersales.core.segments.ast import And, Not, Or
from aftersales.services.operational import webhooks
from aftersales.services.operational.segment_changes import event_rows, membership_changes, webhook_payloads
from aftersales.services.ports import AnalyticalSource, SegmentRecord, SegmentSizeRecord, UnitOfWorkFactory

__all__ = [
    "PROFILES",
    "MembershipRefresh",
    "Preview",
    "SegmentRefresh",
    "condition_of",
    "preview",
    "read_definition",
    "refresh_memberships",
    "segment_members",
    "utc",
]

PROFILES = "customer_profiles"


@dataclass(frozen=True)
class Preview:
    """How many profiles a definition selects at ``now`` (of ``total``), and the first ``sample`` by id."""

    where: str
    definition: dict[str, Any]
    now: datetime
    count: int
    total: int
    columns: tuple[str, ...]
    sample: list[dict[str, Any]]


@dataclass(frozen=True)
class SegmentRefresh:
    segment_id: str
    name: str
    size: int
    entered: int
    exited: int
    events: int
    webhooks_queued: int


@dataclass(frozen=True)
class MembershipRefresh:
    """What a refresh did per segment, and the segments it skipped (name -> why)."""

    refreshed_at: datetime
    segments: list[SegmentRefresh] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def webhooks_queued(self) -> int:
        return sum(s.webhooks_queued for s in self.segments)


# -- definitions ---------------------------------------------------------------------------------


def _listing_fields(exc: DefinitionError) -> DefinitionError:
    """``exc`` with the valid fields at the end of its message (syntax errors do not list them)."""
    message = str(exc)
    if "\nvalid fields: " not in message:
        message += f"\nvalid fields: {', '.join(FIELDS)}"
    return DefinitionError(message, list(exc.errors))


def read_definition(where: str | None = None, definition: Any = None) -> Condition:
    """The AST of exactly one of ``where`` (text form) and ``definition`` (JSON form, parsed JSON)."""
    if (where is None) == (definition is None):
        msg = (
            "give the definition either as text (where) or as JSON (definition), not both"
            if where is not None
            else "give a definition: as text (where) or as JSON (definition)"
        )
        raise ValidationError(msg, [FieldError(("where",), msg)])
    try:
        return parse(where, "where") if where is not None else from_json(definition, "definition")
    except DefinitionError as exc:
        raise _listing_fields(exc) from None


def condition_of(record: SegmentRecord) -> Condition:
    """The AST of a stored segment (its JSON form)."""
    return from_json(json.loads(record.definition_json))


# -- evaluation ----------------------------------------------------------------------------------


def _profiles(source: AnalyticalSource) -> ir.Table:
    if not source.has_table(PROFILES):
        raise MissingTableError(f"no {PROFILES} table here: build the profiles first (`aftersales refresh`)")
    return source.table(PROFILES)


def _behaviour(source: AnalyticalSource, condition: Condition) -> BehaviourTables:
    """The behaviour tables the condition reads; one the source lacks is left out, so the compiler
    names the condition that needs it (``MissingTableError``)."""
    return BehaviourTables(**{n: source.table(n) for n in required_tables(condition) if source.has_table(n)})


def utc(now: datetime | None) -> datetime:
    """``now`` in UTC (the current time when None); a naive time is a ``ValidationError``."""
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValidationError("now must carry a time zone", [FieldError(("now",), "must carry a time zone")])
    return now.astimezone(UTC)


def segment_members(
    source: AnalyticalSource, condition: Condition, now: datetime, *, profiles: ir.Table | None = None
) -> ir.Table:
    """The profile rows of the segment ``condition`` at ``now`` (an expression on the source's engine)."""
    table = profiles if profiles is not None else _profiles(source)
    return table.filter(compile_condition(condition, table, utc(now), _behaviour(source, condition)))


def _fields(node: Condition) -> list[str]:
    if isinstance(node, And | Or):
        return [f for item in node.items for f in _fields(item)]
    if isinstance(node, Not):
        return _fields(node.item)
    name = getattr(node, "field", None)
    return [name] if isinstance(name, str) else []


def preview(
    source: AnalyticalSource,
    *,
    where: str | None = None,
    definition: Any = None,
    now: datetime | None = None,
    limit: int = 10,
    profiles: ir.Table | None = None,
) -> Preview:
    """Count the members of a definition at ``now`` (default: the current time) and sample the first
    ``limit`` by customer id, with the profile fields the definition reads; nothing is saved."""
    condition = read_definition(where, definition)
    at = utc(now)
    table = profiles if profiles is not None else _profiles(source)
    selected = compile_condition(condition, table, at, _behaviour(source, condition))
    counts = table.aggregate(total=table.count(), count=ibis.ifelse(selected, 1, 0).sum().cast("int64"))
    [row] = source.execute(counts)
    columns = tuple(dict.fromkeys(["customer_id", *(f for f in _fields(condition) if f in table.columns)]))
    sample = source.execute(table.filter(selected).select(*columns).order_by("customer_id").limit(limit))
    return Preview(
        where=to_text(condition),
        definition=to_json(condition),
        now=at,
        count=int(row["count"] or 0),
        total=int(row["total"] or 0),
        columns=columns,
        sample=sample,
    )


# -- refresh -------------------------------------------------------------------------------------


def _refresh_one(
    uow: UnitOfWorkFactory, segment: SegmentRecord, members: pa.Array | pa.ChunkedArray, at: datetime
) -> SegmentRefresh:
    members = pc.unique(pc.drop_null(members))
    with uow() as u:
        entered, exited = membership_changes(members, u.memberships.current(segment.segment_id))
        n_in = u.memberships.enter(segment.segment_id, entered, at)
        n_out = u.memberships.exit(segment.segment_id, exited, at)
        rows = event_rows(segment, entered, "entered", at) + event_rows(segment, exited, "exited", at)
        n_events = u.events.insert_new(rows) if rows else 0
        queued = webhooks.publish_many(u, SEGMENT_ENTERED, webhook_payloads(segment, entered, "entered", at))
        queued += webhooks.publish_many(u, SEGMENT_EXITED, webhook_payloads(segment, exited, "exited", at))
        size = len(members)
        u.segment_sizes.add(SegmentSizeRecord(segment.segment_id, at, size, n_in, n_out))
    return SegmentRefresh(segment.segment_id, segment.name, size, n_in, n_out, n_events, len(queued))


def refresh_memberships(
    uow: UnitOfWorkFactory, source: AnalyticalSource, now: datetime, *, profiles: ir.Table | None = None
) -> MembershipRefresh:
    """Evaluate every live segment over the profiles at ``now`` and store the changes (see the module's
    docstring). ``profiles`` (default: the source's ``customer_profiles``) lets the caller pass the
    table it just built on the same engine."""
    at = utc(now)
    with uow() as u:
        saved = u.segments.list()
        last = {s.segment_id: u.segment_sizes.last(s.segment_id) for s in saved}
    for segment in saved:
        previous = last[segment.segment_id]
        if previous is not None and previous.refreshed_at > at:
            raise ConflictError(
                f"segment {segment.name!r} was refreshed at {previous.refreshed_at.isoformat()}, after "
                f"{at.isoformat()}: a refresh cannot go back in time"
            )
    result = MembershipRefresh(at)
    if not saved:
        return result
    table = profiles if profiles is not None else _profiles(source)
    flags: dict[str, ir.BooleanValue] = {}
    for i, segment in enumerate(saved):
        try:
            condition = condition_of(segment)
            flags[f"s{i}"] = compile_condition(condition, table, at, _behaviour(source, condition))
        except (MissingTableError, MissingColumnError, ContractError, ValidationError) as exc:
            result.skipped[segment.name] = str(exc).splitlines()[0]
    if not flags:
        return result
    evaluated = source.to_arrow(table.select("customer_id", **flags))
    ids = evaluated.column("customer_id")
    for i, segment in enumerate(saved):
        if f"s{i}" in flags:
            members = pc.filter(ids, evaluated.column(f"s{i}"))
            result.segments.append(_refresh_one(uow, segment, members, at))
    return result
