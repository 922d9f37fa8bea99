"""Tables of the loyalty ledger (migration 0010; docs/loyalty.md).

* ``loyalty_programs``: every program document ever applied, one row per version (the canonical
  JSON and its digest, so re-applying the same document writes nothing). The current program is
  the highest version.
* ``loyalty_members``: one row per member (a customer with points). It holds no balance: it is the
  row a writer locks (``SELECT ... FOR UPDATE`` on PostgreSQL) so that two redemptions of one member
  run one after the other, and it caches the tier as of the last processing run (``tier``,
  ``tier_since``), which ``loyalty_tier_changes`` records change by change.
* ``loyalty_entries``: the append-only ledger (``core/loyalty/entries.py`` explains the columns and
  the signs each kind takes). ``(member_id, op_key, line)`` is unique: an operation (an order's earn,
  a redemption, an expiry) is written once whatever the retries. ``entry_id`` orders a member's
  history. Balances, locked points and lots are sums over a member's rows (the index on
  ``(member_id, entry_id)`` reads them); nothing is updated in place.
* ``loyalty_redemptions``: one row per redemption, unique by the client's ``redemption_key``: a
  retry with the same key returns the first redemption.
* ``loyalty_tier_changes``: each change of a member's tier, when it happened, and the qualifying
  points then (tier distribution and movements are read from it).
* ``loyalty_runs``: one row per processing run (``run_at`` is the ``now`` it settled), so readers
  know which expiries are written: every lot due by the last run's ``run_at`` has its expire row.
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

from aftersales.adapters.sql.tables import metadata
from aftersales.adapters.sql.types import UTCDateTime

__all__ = [
    "ENTRY_ID",
    "loyalty_entries",
    "loyalty_members",
    "loyalty_programs",
    "loyalty_redemptions",
    "loyalty_runs",
    "loyalty_tier_changes",
]

ENTRY_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite numbers rows only for INTEGER PRIMARY KEY

loyalty_programs = Table(
    "loyalty_programs",
    metadata,
    Column("version", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("definition_json", Text, nullable=False),  # core.loyalty.program_document, as JSON text
    Column("digest", Text, nullable=False),
    Column("applied_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("version"),
)

loyalty_members = Table(
    "loyalty_members",
    metadata,
    Column("member_id", Text, nullable=False),  # the customer's id
    Column("joined_at", UTCDateTime, nullable=False),
    Column("tier", Text, nullable=True),  # as of the last processing run
    Column("tier_since", UTCDateTime, nullable=True),
    Column("processed_at", UTCDateTime, nullable=True),
    PrimaryKeyConstraint("member_id"),
    ForeignKeyConstraint(["member_id"], ["customers.customer_id"]),
)
Index("ix_loyalty_members_tier", loyalty_members.c.tier)

loyalty_entries = Table(
    "loyalty_entries",
    metadata,
    Column("entry_id", ENTRY_ID, primary_key=True, autoincrement=True),
    Column("member_id", Text, nullable=False),
    Column("op_key", Text, nullable=False),
    Column("line", Integer, nullable=False),
    Column("kind", Text, nullable=False),  # earn | lock | release | redeem | expire | adjust | reverse
    Column("points", BigInteger, nullable=False),
    Column("locked", BigInteger, nullable=False),
    Column("lot_id", Text, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("source", Text, nullable=True),
    Column("detail", Text, nullable=True),
    Column("program_version", Integer, nullable=True),
    Column("recorded_at", UTCDateTime, nullable=False),
    UniqueConstraint("member_id", "op_key", "line"),
    ForeignKeyConstraint(["member_id"], ["loyalty_members.member_id"]),
)
Index("ix_loyalty_entries_member", loyalty_entries.c.member_id, loyalty_entries.c.entry_id)
Index(
    "ix_loyalty_entries_expiring",
    loyalty_entries.c.expires_at,
    sqlite_where=loyalty_entries.c.expires_at.is_not(None),
    postgresql_where=loyalty_entries.c.expires_at.is_not(None),
)

loyalty_redemptions = Table(
    "loyalty_redemptions",
    metadata,
    Column("redemption_id", Text, nullable=False),  # red_<hex>
    Column("redemption_key", Text, nullable=False),  # the client's idempotency key
    Column("member_id", Text, nullable=False),
    Column("reward_id", Text, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("program_version", Integer, nullable=False),
    Column("redeemed_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("redemption_id"),
    UniqueConstraint("redemption_key"),
    ForeignKeyConstraint(["member_id"], ["loyalty_members.member_id"]),
)
Index("ix_loyalty_redemptions_member", loyalty_redemptions.c.member_id, loyalty_redemptions.c.redeemed_at)

loyalty_tier_changes = Table(
    "loyalty_tier_changes",
    metadata,
    Column("member_id", Text, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    Column("tier", Text, nullable=False),
    Column("previous_tier", Text, nullable=False),
    Column("qualifying_points", BigInteger, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("member_id", "changed_at"),
    ForeignKeyConstraint(["member_id"], ["loyalty_members.member_id"]),
)
Index("ix_loyalty_tier_changes_at", loyalty_tier_changes.c.changed_at)

loyalty_runs = Table(
    "loyalty_runs",
    metadata,
    Column("run_at", UTCDateTime, nullable=False),  # the ``now`` settled
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("members", BigInteger, nullable=False),
    Column("entries", BigInteger, nullable=False),
    PrimaryKeyConstraint("run_at"),
)
