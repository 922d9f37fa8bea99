"""Ports: what the use cases need from storage and engines, as protocols.

Operational plane: ``adapters/sql/repositories`` implements the repositories and the unit of work on
SQLAlchemy. A unit of work is one transaction: it commits when its ``with`` block ends without an
error and rolls back otherwise.

Analytical plane: one port, :class:`AnalyticalSource`, for metrics, CLV and experiments alike
(``adapters.engines.Source`` implements it on DuckDB, SQLite-through-DuckDB, PostgreSQL and Spark).
Services build Ibis expressions over its tables and hand them back to it to run; they never reach
the Ibis backend, and never read or write files (a :class:`TableWriter` does).
``bootstrap`` wires adapters to these ports.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # Ibis and Arrow are heavy imports; the annotations alone need them
    import ibis.expr.types as ir
    import pyarrow as pa
    from ibis.expr.types.relations import CachedTable

    from aftersales.services.ports_enrollments import EnrollmentRepository
    from aftersales.services.ports_journeys import JourneyRepository
    from aftersales.services.ports_loyalty import LoyaltyRepository
    from aftersales.services.ports_messages import MessageRepository
    from aftersales.services.ports_surveys import SurveyRepository

__all__ = [
    "EVENT_COLUMNS",
    "AnalyticalSource",
    "ApiKeyRecord",
    "ApiKeyRepository",
    "AttemptRecord",
    "DeliveryRecord",
    "EventRepository",
    "EventRow",
    "IdempotencyRecord",
    "IdempotencyRepository",
    "ProfileRepository",
    "ResourceRepository",
    "ScoreRecord",
    "ScoreRepository",
    "SegmentMembershipRepository",
    "SegmentRecord",
    "SegmentRepository",
    "SegmentSizeRecord",
    "SegmentSizeRepository",
    "SubscriptionRecord",
    "TableWriter",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "WebhookRepository",
]


@dataclass(frozen=True)
class ApiKeyRecord:
    key_id: str
    name: str | None
    scope: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class IdempotencyRecord:
    key_id: str
    idempotency_key: str
    fingerprint: str
    state: str  # in_progress | completed
    status_code: int | None
    content_type: str | None
    body: bytes | None
    created_at: datetime


@dataclass(frozen=True)
class SubscriptionRecord:
    subscription_id: str
    url: str
    event_types: tuple[str, ...]
    secret: str
    active: bool
    description: str | None
    created_at: datetime


@dataclass(frozen=True)
class DeliveryRecord:
    delivery_id: str
    subscription_id: str
    event_type: str
    payload: str
    status: str  # pending | delivered | failed
    attempt_count: int
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class AttemptRecord:
    delivery_id: str
    attempt_number: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True)
class ScoreRecord:
    """One customer's stored CLV score (``clv_scores``): the model's view as of ``calibration_end``."""

    customer_id: str
    model: str
    calibration_end: date
    time_unit: str
    horizon: float
    p_alive: float
    expected_purchases: float
    expected_spend: float | None
    clv: float | None
    risk_tier: str  # high | medium | low
    computed_at: datetime


class ApiKeyRepository(Protocol):
    def add(self, key: ApiKeyRecord) -> None: ...
    def get(self, key_id: str) -> ApiKeyRecord | None: ...
    def list(self) -> list[ApiKeyRecord]: ...
    def revoke(self, key_id: str, at: datetime) -> bool: ...


class IdempotencyRepository(Protocol):
    def claim(self, record: IdempotencyRecord) -> bool:
        """Insert an ``in_progress`` record; False when one with the same keys already exists."""
        ...

    def get(self, key_id: str, idempotency_key: str) -> IdempotencyRecord | None: ...
    def complete(
        self, key_id: str, idempotency_key: str, status_code: int, content_type: str, body: bytes, at: datetime
    ) -> None: ...
    def release(self, key_id: str, idempotency_key: str) -> None: ...
    def take_over(self, key_id: str, idempotency_key: str, stale_before: datetime, at: datetime) -> bool:
        """Re-claim an ``in_progress`` record created before ``stale_before`` (its owner died)."""
        ...


EVENT_COLUMNS = ("event_id", "customer_id", "anonymous_id", "name", "occurred_at", "properties")
EventRow = tuple[str, str | None, str | None, str, datetime, str | None]
"""One ``events`` row in :data:`EVENT_COLUMNS` order (``occurred_at`` zone-aware, ``properties`` JSON text)."""


class EventRepository(Protocol):
    def insert_new(self, rows: Sequence[EventRow]) -> int:
        """Insert rows whose event_id is not stored yet (ids unique within ``rows``); returns how many
        were new. Concurrent writers of the same id write it once."""
        ...


class ResourceRepository(Protocol):
    def get(self, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None: ...
    def exists(self, table: str, key: Mapping[str, Any]) -> bool: ...
    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None: ...
    def update(self, table: str, key: Mapping[str, Any], changes: Mapping[str, Any]) -> None: ...
    def delete_where(self, table: str, match: Mapping[str, Any]) -> None: ...
    def select(
        self,
        table: str,
        *,
        where: Mapping[str, Any] | None = None,
        after: Sequence[Any] | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Rows matching ``where``, ordered by the table's key, strictly after key values ``after``."""
        ...


class WebhookRepository(Protocol):
    def add_subscription(self, sub: SubscriptionRecord) -> None: ...
    def get_subscription(self, subscription_id: str) -> SubscriptionRecord | None: ...
    def list_subscriptions(self, *, after: str | None, limit: int) -> list[SubscriptionRecord]: ...
    def active_subscriptions(self) -> list[SubscriptionRecord]: ...
    def deactivate(self, subscription_id: str) -> bool: ...
    def add_delivery(self, delivery: DeliveryRecord) -> None: ...
    def get_delivery(self, delivery_id: str) -> DeliveryRecord | None: ...
    def list_deliveries(
        self, *, subscription_id: str | None, status: str | None, after: str | None, limit: int
    ) -> list[DeliveryRecord]: ...
    def due(
        self, now: datetime, limit: int, *, skip_subscriptions: Collection[str] = ()
    ) -> list[tuple[DeliveryRecord, SubscriptionRecord]]:
        """Pending deliveries due at ``now``, oldest first, with their subscriptions (active or not);
        rows another transaction is claiming are skipped where the database can lock them."""
        ...

    def lease(self, delivery_ids: Sequence[str], now: datetime, until: datetime, token: str) -> list[str]:
        """Lease those of ``delivery_ids`` still due at ``now`` to ``token`` until ``until``; the ids leased."""
        ...

    def cancel_pending(
        self, reason: str, *, subscription_id: str | None = None, delivery_ids: Sequence[str] = ()
    ) -> int:
        """Fail the pending deliveries of a subscription (or these ids) with ``reason``; how many."""
        ...

    def count_attempt(self, delivery_id: str) -> tuple[DeliveryRecord, str | None] | None:
        """Add one to the delivery's attempt count (locking it); the delivery and its lease token."""
        ...

    def next_attempt_number(self, delivery_id: str) -> int: ...
    def add_attempt(self, attempt: AttemptRecord) -> None: ...
    def finish(self, delivery: DeliveryRecord, token: str) -> bool:
        """Store the delivery's new state and end the lease, if ``token`` still holds it."""
        ...

    def attempts(self, delivery_id: str) -> list[AttemptRecord]: ...
    def reset_for_redelivery(self, delivery_id: str, at: datetime) -> bool: ...


class ScoreRepository(Protocol):
    def tiers(self) -> dict[str, str]:
        """Every stored customer's risk tier."""
        ...

    def upsert(self, scores: Sequence[ScoreRecord]) -> None:
        """Insert new customers' scores and replace existing ones (in bulk)."""
        ...

    def delete_not_computed_at(self, computed_at: datetime) -> int:
        """Drop scores left from an earlier run (not written at ``computed_at``); returns how many."""
        ...

    def get(self, customer_id: str) -> ScoreRecord | None: ...
    def list(self, *, risk_tier: str | None, after: str | None, limit: int) -> list[ScoreRecord]:
        """Scores in customer_id order, strictly after ``after``."""
        ...


@dataclass(frozen=True)
class SegmentRecord:
    """A saved segment (``segments``): its definition in the JSON form (JSON text) and the canonical text form."""

    segment_id: str
    name: str
    definition_json: str
    definition_text: str
    description: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None


@dataclass(frozen=True)
class SegmentSizeRecord:
    """A segment's size after one refresh, and how many customers entered and exited at it."""

    segment_id: str
    refreshed_at: datetime
    size: int
    entered: int
    exited: int


class SegmentRepository(Protocol):
    def add(self, segment: SegmentRecord) -> None:
        """Insert; ``ConflictError`` when a live segment has the same name."""
        ...

    def get(self, segment_id: str) -> SegmentRecord | None:
        """The segment, live or deleted."""
        ...

    def by_name(self, name: str) -> SegmentRecord | None:
        """The live segment of that name."""
        ...

    def list(self, *, after: str | None = None, limit: int | None = None) -> list[SegmentRecord]:
        """Live segments in segment_id order, strictly after ``after``."""
        ...

    def update(self, segment: SegmentRecord) -> None:
        """Store every column of ``segment`` (``ConflictError`` when its new name is taken)."""
        ...


class SegmentMembershipRepository(Protocol):
    def current(self, segment_id: str) -> pa.Array:
        """The ids of the segment's current members (rows with ``exited_at`` NULL), as an Arrow string array."""
        ...

    def enter(self, segment_id: str, customer_ids: pa.Array, at: datetime) -> int:
        """Open a membership at ``at`` for each id (in bulk; a row already stored is kept); how many were new."""
        ...

    def exit(self, segment_id: str, customer_ids: pa.Array, at: datetime) -> int:
        """Close the open memberships of these ids at ``at`` (in bulk); how many were closed."""
        ...

    def members(self, segment_id: str, *, after: str | None, limit: int) -> list[tuple[str, datetime]]:
        """Current members ``(customer_id, entered_at)`` in customer_id order, strictly after ``after``."""
        ...


class SegmentSizeRepository(Protocol):
    def add(self, size: SegmentSizeRecord) -> bool:
        """Insert; False (and nothing written) when the segment already has a size at that refresh time."""
        ...

    def last(self, segment_id: str) -> SegmentSizeRecord | None:
        """The size at the segment's latest refresh."""
        ...

    def list(self, segment_id: str, *, after: datetime | None, limit: int) -> list[SegmentSizeRecord]:
        """Sizes in refresh order, strictly after ``after``."""
        ...


class ProfileRepository(Protocol):
    def replace_all(self, profiles: pa.Table, refreshed_at: datetime) -> int:
        """Replace every stored customer profile with ``profiles`` (one refresh's rows, in bulk, in this
        transaction), each stamped ``refreshed_at``; how many were written."""
        ...

    def get(self, customer_id: str) -> dict[str, Any] | None:
        """One customer's stored profile (column -> value, lists as lists), or None."""
        ...


class UnitOfWork(Protocol):
    """The repositories of one transaction, as read-only members: a use case reads them and never
    replaces them, and a read-only protocol member lets an implementation hold a narrower type (the
    SQL repositories, a test's fakes) where a settable attribute would have to be exactly the port."""

    @property
    def api_keys(self) -> ApiKeyRepository: ...

    @property
    def idempotency(self) -> IdempotencyRepository: ...

    @property
    def events(self) -> EventRepository: ...

    @property
    def resources(self) -> ResourceRepository: ...

    @property
    def webhooks(self) -> WebhookRepository: ...

    @property
    def scores(self) -> ScoreRepository: ...

    @property
    def segments(self) -> SegmentRepository: ...

    @property
    def memberships(self) -> SegmentMembershipRepository: ...

    @property
    def segment_sizes(self) -> SegmentSizeRepository: ...

    @property
    def profiles(self) -> ProfileRepository: ...

    # The act plane's repositories (issue 15): protocols in services/ports_{journeys,enrollments,messages}.py.
    @property
    def journeys(self) -> JourneyRepository: ...

    @property
    def enrollments(self) -> EnrollmentRepository: ...

    @property
    def messages(self) -> MessageRepository: ...

    # The loyalty ledger (issue 17): protocol in services/ports_loyalty.py.
    @property
    def loyalty(self) -> LoyaltyRepository: ...

    # Surveys and reviews (issue 16): protocol in services/ports_surveys.py.
    @property
    def surveys(self) -> SurveyRepository: ...


UnitOfWorkFactory = Callable[[], AbstractContextManager[UnitOfWork]]
"""A callable returning a context manager that yields a :class:`UnitOfWork` (one transaction)."""


# -- analytical plane ---------------------------------------------------------------------------


class AnalyticalSource(Protocol):
    """Tables on one analytical engine, and the means to run expressions over them there.

    The engine does the work that grows with the data (scans, joins, grouping); Python receives
    only results (summary statistics, distinct tuples), as Arrow tables or rows.
    """

    def has_table(self, name: str) -> bool:
        """Whether the source holds table ``name``."""
        ...

    def table(self, name: str) -> ir.Table:
        """Table ``name``: a contract table in the contract's analytical shape, or another table the
        source was opened with (e.g. experiment outcomes) as it is. Raises ``MissingTableError``."""
        ...

    def execute(self, expr: ir.Table) -> list[dict[str, Any]]:
        """Run ``expr`` on the engine; its rows as dicts (for small results)."""
        ...

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        """Run ``expr`` on the engine; the result as an Arrow table."""
        ...

    def cache(self, expr: ir.Table) -> CachedTable:
        """``expr`` computed once and kept on the engine (a temporary table) for several later reads;
        ``release()`` drops it, as does closing the source."""
        ...

    def register(self, name: str, data: pa.Table) -> ir.Table:
        """Arrow ``data`` (e.g. per-tuple scores) as a table on the engine, to join with its tables there."""
        ...


class TableWriter(Protocol):
    def __call__(self, path: Path, table: ir.Table, fmt: str) -> None:
        """Write the rows of ``table`` to the file ``path`` in format ``fmt`` (parquet, csv or jsonl),
        the engine streaming them where it can."""
        ...
