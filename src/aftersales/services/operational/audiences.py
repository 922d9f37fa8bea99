"""Audiences out: export a saved segment's members to a file, and manage sync destinations.

``export_audience`` streams the segment's current members (``segment_memberships`` rows with
``exited_at IS NULL``, joined to ``customers``) in batches through ``core.audiences.prepare`` (consent,
normalisation, hashing) into the file's writer. The format is checked against the file's extension
before anything is read, and the writer writes beside the target and renames when complete, so a
failed export leaves no file. The mirror sync to a webhook destination is
:func:`aftersales.services.operational.audience_sync.sync_audience` (re-exported here).

The store is reached through :class:`AudienceRepository` (``adapters/sql/repositories/audiences.py``),
one transaction per ``with store() as repo`` block.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from aftersales.core.audiences import COLUMNS, LEFT_OUT_REASONS, MemberBatch, file_kind, prepare, sync
from aftersales.core.audiences.sync import acknowledged_ops
from aftersales.core.errors import ConflictError, FieldError, NotFoundError, ValidationError
from aftersales.services.operational.webhook_destinations import DestinationPolicy
from aftersales.services.operational.webhooks import WebhookSender

SYNC_EVENT = "audience.sync"
"""The ``Aftersales-Event`` header of a sync batch (``Aftersales-Delivery`` carries its idempotency key)."""

__all__ = [
    "AudienceRepository",
    "AudienceStore",
    "AudienceWriter",
    "DestinationRecord",
    "ExportResult",
    "OutboxBatch",
    "SegmentRef",
    "SyncResult",
    "add_destination",
    "delete_destination",
    "export_audience",
    "find_segment",
    "list_destinations",
    "sync_audience",
]


@dataclass(frozen=True)
class SegmentRef:
    segment_id: str
    name: str


@dataclass(frozen=True)
class DestinationRecord:
    destination_id: str
    name: str
    url: str
    secret: str
    description: str | None
    created_at: datetime


@dataclass(frozen=True)
class OutboxBatch:
    """A planned batch: ``batch_id`` is its idempotency key, ``payload`` the exact body sent."""

    batch_id: str
    destination_id: str
    segment_id: str
    sequence: int
    payload: str
    adds: int
    removes: int
    created_at: datetime
    attempts: int = 0
    last_error: str | None = None


class AudienceRepository(Protocol):
    def find_segment(self, ref: str) -> SegmentRef | None:
        """The live segment whose id or name is ``ref``."""
        ...

    def member_batches(self, segment_id: str, size: int) -> Iterator[MemberBatch]:
        """The segment's current members with their identifiers and consent, ``size`` at a time, in
        customer order."""
        ...

    def add_destination(self, destination: DestinationRecord) -> None: ...
    def find_destination(self, ref: str) -> DestinationRecord | None:
        """The destination whose id or name is ``ref``."""
        ...

    def list_destinations(self) -> list[DestinationRecord]: ...
    def delete_destination(self, destination_id: str) -> None:
        """Delete the destination with its sync state and unsent batches."""
        ...

    def sync_state(self, destination_id: str, segment_id: str) -> dict[str, str]:
        """customer id -> fingerprint of what the destination acknowledged for the segment."""
        ...

    def pending_batches(self, destination_id: str, segment_id: str) -> list[OutboxBatch]:
        """Unacknowledged batches in the order they were planned."""
        ...

    def add_batches(self, batches: Sequence[OutboxBatch]) -> None: ...
    def acknowledge(
        self, batch: OutboxBatch, adds: Sequence[tuple[str, str]], removes: Sequence[str], at: datetime
    ) -> bool:
        """Apply an acknowledged batch to the sync state and drop it from the outbox (False when it
        was no longer there)."""
        ...

    def record_failure(self, batch_id: str, error: str) -> None: ...


AudienceStore = Callable[[], AbstractContextManager[AudienceRepository]]
"""One transaction on the store, yielding an :class:`AudienceRepository`."""


class AudienceWriter(Protocol):
    def __call__(
        self, path: Path, kind: str, columns: Sequence[str]
    ) -> AbstractContextManager[Callable[[Mapping[str, Sequence[str | None]]], None]]:
        """A writer of ``kind`` (csv or parquet) with these columns, taking batches of columns;
        the file appears at ``path`` only when the block ends without an error."""
        ...


@dataclass(frozen=True)
class ExportResult:
    segment_id: str
    segment: str
    fmt: str
    path: Path
    members: int
    rows: int
    emails: int
    phones: int
    left_out: dict[str, int] = field(default_factory=dict)
    """Customers left out, by reason (every reason of ``LEFT_OUT_REASONS``, zeros included)."""


def find_segment(repo: AudienceRepository, ref: str) -> SegmentRef:
    segment = repo.find_segment(ref)
    if segment is None:
        raise NotFoundError(f"no segment {ref!r} (give a saved segment's name or id: `aftersales segments list`)")
    return segment


def export_audience(
    store: AudienceStore,
    segment: str,
    fmt: str,
    out: Path,
    *,
    open_writer: AudienceWriter,
    batch_rows: int = 100_000,
) -> ExportResult:
    """Write the members of ``segment`` (name or id) who may leave to ``out`` in format ``fmt``
    (csv, parquet, google or meta); the extension of ``out`` must be that of the format."""
    kind = file_kind(out, fmt)
    left_out: Counter[str] = Counter()
    members = rows = emails = phones = 0
    with store() as repo:
        ref = find_segment(repo, segment)
        with open_writer(Path(out), kind, COLUMNS[fmt]) as write:
            for batch in repo.member_batches(ref.segment_id, batch_rows):
                prepared = prepare(fmt, batch)
                write(prepared.columns)
                members += len(batch)
                rows += prepared.rows
                emails += prepared.emails
                phones += prepared.phones
                left_out.update(prepared.left_out)
    return ExportResult(
        ref.segment_id,
        ref.name,
        fmt,
        Path(out),
        members,
        rows,
        emails,
        phones,
        {reason: left_out[reason] for reason in LEFT_OUT_REASONS},
    )


# -- destinations ---------------------------------------------------------------------------------


def add_destination(
    store: AudienceStore,
    name: str,
    url: str,
    description: str | None = None,
    *,
    destinations: DestinationPolicy | None = None,
    now: datetime | None = None,
) -> DestinationRecord:
    """Register a webhook destination; the returned record holds its signing secret (shown once).
    ``destinations`` decides which URLs are acceptable (default: public addresses only)."""
    if not name.strip():
        raise ValidationError("give the destination a name", [FieldError(("name",), "must not be empty")])
    refusal = (destinations or DestinationPolicy()).refusal(url)
    if refusal is not None:
        raise ValidationError(f"destination URL not allowed: {refusal}", [FieldError(("url",), refusal)])
    record = DestinationRecord(
        "dst_" + secrets.token_hex(8),
        name.strip(),
        url,
        "whsec_" + secrets.token_urlsafe(32),
        description,
        now or datetime.now(UTC),
    )
    with store() as repo:
        if repo.find_destination(record.name) is not None:
            raise ConflictError(f"a destination named {record.name!r} exists already")
        repo.add_destination(record)
    return record


def list_destinations(store: AudienceStore) -> list[DestinationRecord]:
    with store() as repo:
        return repo.list_destinations()


def find_destination(repo: AudienceRepository, ref: str) -> DestinationRecord:
    destination = repo.find_destination(ref)
    if destination is None:
        raise NotFoundError(f"no audience destination {ref!r} (see `aftersales audiences destinations list`)")
    return destination


def delete_destination(store: AudienceStore, ref: str) -> DestinationRecord:
    """Delete a destination (by id or name) with what it was sent; nothing is sent to it any more."""
    with store() as repo:
        destination = find_destination(repo, ref)
        repo.delete_destination(destination.destination_id)
    return destination


# -- mirror sync ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncResult:
    """One sync: batches resent from an earlier, unfinished sync and batches of this one that the
    destination acknowledged; ``pending`` batches remain unacknowledged (then ``error`` says why)."""

    segment_id: str
    destination_id: str
    members: int
    audience: int
    adds: int
    removes: int
    batches: int
    resent: int
    pending: int
    error: str | None
    left_out: dict[str, int] = field(default_factory=dict)


def _send(store: AudienceStore, sender: WebhookSender, dst: DestinationRecord, batch: OutboxBatch) -> str | None:
    """Send one batch with its idempotency key; on a 2xx answer apply it to the state. None when
    acknowledged, else why not (the batch stays in the outbox, to be resent unchanged)."""
    outcome = sender.send(dst.url, dst.secret, batch.payload, batch.batch_id, SYNC_EVENT)
    if outcome.status_code is not None and 200 <= outcome.status_code < 300:
        adds, removes = acknowledged_ops(batch.payload)
        with store() as repo:
            repo.acknowledge(batch, adds, removes, datetime.now(UTC))
        return None
    error = outcome.error or f"HTTP {outcome.status_code}"
    with store() as repo:
        repo.record_failure(batch.batch_id, error)
    return error


def sync_audience(
    store: AudienceStore,
    segment: str,
    destination: str,
    *,
    sender: WebhookSender,
    batch_size: int = 1000,
    member_rows: int = 100_000,
) -> SyncResult:
    """Mirror ``segment``'s audience (members who may leave, e-mail and phone as in the csv export)
    to ``destination``: first resend the batches an earlier sync left unacknowledged (same key, same
    body), then send the adds and removes since the state the destination acknowledged, in batches
    of ``batch_size``, stopping at the first batch not acknowledged (``core.audiences.sync``)."""
    with store() as repo:
        ref = find_segment(repo, segment)
        dst = find_destination(repo, destination)
        pending = repo.pending_batches(dst.destination_id, ref.segment_id)
    adds = removes = 0
    for i, batch in enumerate(pending):
        error = _send(store, sender, dst, batch)
        if error is not None:
            return SyncResult(ref.segment_id, dst.destination_id, 0, 0, adds, removes, 0, i, len(pending) - i, error)
        adds, removes = adds + batch.adds, removes + batch.removes
    desired: dict[str, sync.Record] = {}
    left_out: Counter[str] = Counter()
    members = 0
    with store() as repo:
        for members_batch in repo.member_batches(ref.segment_id, member_rows):
            members += len(members_batch)
            prepared = prepare("csv", members_batch)
            left_out.update(prepared.left_out)
            cols = prepared.columns
            for cid, email, phone in zip(cols["customer_id"], cols["email"], cols["phone"], strict=True):
                assert cid is not None
                desired[cid] = sync.record(cid, email, phone)
        to_add, to_remove = sync.diff(desired, repo.sync_state(dst.destination_id, ref.segment_id))
        created = datetime.now(UTC)
        planned = [
            OutboxBatch(
                batch_id,
                dst.destination_id,
                ref.segment_id,
                seq,
                sync.batch_body(
                    batch_id,
                    destination_id=dst.destination_id,
                    segment_id=ref.segment_id,
                    segment=ref.name,
                    sequence=seq,
                    created_at=created.isoformat(),
                    plan=plan,
                ),
                len(plan.adds),
                len(plan.removes),
                created,
            )
            for seq, plan in enumerate(sync.plan_batches(to_add, to_remove, batch_size), start=1)
            for batch_id in ["asb_" + secrets.token_hex(12)]
        ]
        repo.add_batches(planned)
    reasons = {reason: left_out[reason] for reason in LEFT_OUT_REASONS}
    for i, batch in enumerate(planned):
        error = _send(store, sender, dst, batch)
        if error is not None:
            return SyncResult(
                ref.segment_id, dst.destination_id, members, len(desired), adds, removes, i, len(pending),
                len(planned) - i, error, reasons,
            )  # fmt: skip
        adds, removes = adds + batch.adds, removes + batch.removes
    return SyncResult(
        ref.segment_id, dst.destination_id, members, len(desired), adds, removes, len(planned), len(pending), 0,
        None, reasons,
    )  # fmt: skip
