"""Tables of the audience mirror sync (migration 0007).

* ``audience_destinations``: where audiences are synced: a webhook URL and the secret its batches
  are signed with (HMAC-SHA256, as the webhooks). Names are unique.
* ``audience_sync_state``: what each destination holds per segment and customer, as acknowledged:
  the fingerprint of the record it received (``core.audiences.sync.fingerprint``). A sync sends
  the difference between the segment's members now and these rows.
* ``audience_sync_outbox``: batches planned but not yet acknowledged, with their idempotency key
  (``batch_id``) and exact body, so a retried sync resends them unchanged before planning anything
  new. A batch leaves this table in the transaction that applies it to ``audience_sync_state``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)

from aftersales.adapters.sql import segment_tables  # noqa: F401 - the segments table the foreign keys name
from aftersales.adapters.sql.tables import metadata
from aftersales.adapters.sql.types import UTCDateTime

__all__ = ["audience_destinations", "audience_sync_outbox", "audience_sync_state"]

audience_destinations = Table(
    "audience_destinations",
    metadata,
    Column("destination_id", Text, nullable=False),  # dst_<hex>
    Column("name", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("secret", Text, nullable=False),
    Column("description", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("destination_id"),
    UniqueConstraint("name"),
)

audience_sync_state = Table(
    "audience_sync_state",
    metadata,
    Column("destination_id", Text, nullable=False),
    Column("segment_id", Text, nullable=False),
    Column("customer_id", Text, nullable=False),
    Column("fingerprint", Text, nullable=False),
    Column("synced_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("destination_id", "segment_id", "customer_id"),
    ForeignKeyConstraint(["destination_id"], ["audience_destinations.destination_id"]),
    ForeignKeyConstraint(["segment_id"], ["segments.segment_id"]),
)

audience_sync_outbox = Table(
    "audience_sync_outbox",
    metadata,
    Column("batch_id", Text, nullable=False),  # the idempotency key: asb_<hex>
    Column("destination_id", Text, nullable=False),
    Column("segment_id", Text, nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("payload", Text, nullable=False),
    Column("adds", BigInteger, nullable=False),
    Column("removes", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    PrimaryKeyConstraint("batch_id"),
    ForeignKeyConstraint(["destination_id"], ["audience_destinations.destination_id"]),
    ForeignKeyConstraint(["segment_id"], ["segments.segment_id"]),
)
Index(
    "ix_audience_sync_outbox_pair",
    audience_sync_outbox.c.destination_id,
    audience_sync_outbox.c.segment_id,
    audience_sync_outbox.c.created_at,
    audience_sync_outbox.c.sequence,
)
Index("ix_audience_sync_state_segment", audience_sync_state.c.segment_id)
