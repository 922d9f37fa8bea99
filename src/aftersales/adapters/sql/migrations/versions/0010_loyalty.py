"""loyalty: program versions, members, the append-only ledger, redemptions, tier changes and
processing runs (issue 17; adapters/sql/loyalty_tables.py explains each)

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aftersales.adapters.sql.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loyalty_programs",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("definition_json", sa.Text(), nullable=False),
        sa.Column("digest", sa.Text(), nullable=False),
        sa.Column("applied_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_loyalty_programs")),
    )
    op.create_table(
        "loyalty_members",
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
        sa.Column("tier", sa.Text(), nullable=True),
        sa.Column("tier_since", UTCDateTime(), nullable=True),
        sa.Column("processed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["customers.customer_id"], name=op.f("fk_loyalty_members_member_id_customers")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_loyalty_members")),
    )
    op.create_index("ix_loyalty_members_tier", "loyalty_members", ["tier"], unique=False)
    op.create_table(
        "loyalty_entries",
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("op_key", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("locked", sa.BigInteger(), nullable=False),
        sa.Column("lot_id", sa.Text(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("program_version", sa.Integer(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["loyalty_members.member_id"], name=op.f("fk_loyalty_entries_member_id_loyalty_members")
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_loyalty_entries")),
        sa.UniqueConstraint("member_id", "op_key", "line", name=op.f("uq_loyalty_entries_member_id")),
    )
    op.create_index("ix_loyalty_entries_member", "loyalty_entries", ["member_id", "entry_id"], unique=False)
    op.create_index(
        "ix_loyalty_entries_expiring",
        "loyalty_entries",
        ["expires_at"],
        unique=False,
        sqlite_where=sa.text("expires_at IS NOT NULL"),
        postgresql_where=sa.text("expires_at IS NOT NULL"),
    )
    op.create_table(
        "loyalty_redemptions",
        sa.Column("redemption_id", sa.Text(), nullable=False),
        sa.Column("redemption_key", sa.Text(), nullable=False),
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("reward_id", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("program_version", sa.Integer(), nullable=False),
        sa.Column("redeemed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["loyalty_members.member_id"], name=op.f("fk_loyalty_redemptions_member_id_loyalty_members")
        ),
        sa.PrimaryKeyConstraint("redemption_id", name=op.f("pk_loyalty_redemptions")),
        sa.UniqueConstraint("redemption_key", name=op.f("uq_loyalty_redemptions_redemption_key")),
    )
    op.create_index("ix_loyalty_redemptions_member", "loyalty_redemptions", ["member_id", "redeemed_at"], unique=False)
    op.create_table(
        "loyalty_tier_changes",
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("tier", sa.Text(), nullable=False),
        sa.Column("previous_tier", sa.Text(), nullable=False),
        sa.Column("qualifying_points", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["loyalty_members.member_id"],
            name=op.f("fk_loyalty_tier_changes_member_id_loyalty_members"),
        ),
        sa.PrimaryKeyConstraint("member_id", "changed_at", name=op.f("pk_loyalty_tier_changes")),
    )
    op.create_index("ix_loyalty_tier_changes_at", "loyalty_tier_changes", ["changed_at"], unique=False)
    op.create_table(
        "loyalty_runs",
        sa.Column("run_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=False),
        sa.Column("members", sa.BigInteger(), nullable=False),
        sa.Column("entries", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("run_at", name=op.f("pk_loyalty_runs")),
    )


def downgrade() -> None:
    op.drop_table("loyalty_runs")
    op.drop_index("ix_loyalty_tier_changes_at", table_name="loyalty_tier_changes")
    op.drop_table("loyalty_tier_changes")
    op.drop_index("ix_loyalty_redemptions_member", table_name="loyalty_redemptions")
    op.drop_table("loyalty_redemptions")
    op.drop_index("ix_loyalty_entries_expiring", table_name="loyalty_entries")
    op.drop_index("ix_loyalty_entries_member", table_name="loyalty_entries")
    op.drop_table("loyalty_entries")
    op.drop_index("ix_loyalty_members_tier", table_name="loyalty_members")
    op.drop_table("loyalty_members")
    op.drop_table("loyalty_programs")
