"""Tables of saved segments and their membership over time (migration 0006).

* ``segments``: one row per saved definition. The definition is stored twice: the JSON form (what
  the compiler reads back, exact) and the canonical text form (what people read); both come from one
  AST, so they never disagree. A deleted segment keeps its row (``deleted_at`` set) so that its
  membership history stays readable; names are unique among the live segments only (a partial
  unique index), so a name can be used again after its segment was deleted.
* ``segment_memberships``: one row per stay of a customer in a segment: entered at a refresh, exited
  at a later one (``exited_at`` NULL while the customer is in). The current members of a segment are
  its rows with ``exited_at IS NULL``, which the index on ``(segment_id, exited_at)`` finds. A customer
  who leaves and comes back gets a second row (the key holds ``entered_at``). ``customer_id`` has no
  foreign key: the ids come from ``customer_profiles`` (which has one), and checking each of millions
  of rows written by a refresh would cost more than it protects.
* ``segment_sizes``: one row per segment and refresh: the size after it and how many entered and
  exited, so sizes over time are one indexed read.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKeyConstraint,
    Index,
    PrimaryKeyConstraint,
    Table,
    Text,
)

from aftersales.adapters.sql.tables import metadata
from aftersales.adapters.sql.types import UTCDateTime

__all__ = ["segment_memberships", "segment_sizes", "segments"]

segments = Table(
    "segments",
    metadata,
    Column("segment_id", Text, nullable=False),  # seg_<hex>
    Column("name", Text, nullable=False),
    Column("definition_json", Text, nullable=False),  # core.segments.to_json, as JSON text
    Column("definition_text", Text, nullable=False),  # core.segments.to_text (canonical)
    Column("description", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("deleted_at", UTCDateTime, nullable=True),
    PrimaryKeyConstraint("segment_id"),
)
Index(
    "ux_segments_name_live",
    segments.c.name,
    unique=True,
    sqlite_where=segments.c.deleted_at.is_(None),
    postgresql_where=segments.c.deleted_at.is_(None),
)

segment_memberships = Table(
    "segment_memberships",
    metadata,
    Column("segment_id", Text, nullable=False),
    Column("customer_id", Text, nullable=False),
    Column("entered_at", UTCDateTime, nullable=False),
    Column("exited_at", UTCDateTime, nullable=True),
    PrimaryKeyConstraint("segment_id", "customer_id", "entered_at"),
    ForeignKeyConstraint(["segment_id"], ["segments.segment_id"]),
)
Index("ix_segment_memberships_current", segment_memberships.c.segment_id, segment_memberships.c.exited_at)

segment_sizes = Table(
    "segment_sizes",
    metadata,
    Column("segment_id", Text, nullable=False),
    Column("refreshed_at", UTCDateTime, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("entered", BigInteger, nullable=False),
    Column("exited", BigInteger, nullable=False),
    PrimaryKeyConstraint("segment_id", "refreshed_at"),
    ForeignKeyConstraint(["segment_id"], ["segments.segment_id"]),
)
