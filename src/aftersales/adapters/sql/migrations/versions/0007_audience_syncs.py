"""audience syncs: webhook destinations, what each holds per segment and customer, unsent batches (issue 14)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aftersales.adapters.sql.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audience_destinations",
        sa.Column("destination_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("destination_id", name=op.f("pk_audience_destinations")),
        sa.UniqueConstraint("name", name=op.f("uq_audience_destinations_name")),
    )
    op.create_table(
        "audience_sync_state",
        sa.Column("destination_id", sa.Text(), nullable=False),
        sa.Column("segment_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("synced_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["destination_id"],
            ["audience_destinations.destination_id"],
            name=op.f("fk_audience_sync_state_destination_id_audience_destinations"),
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segments.segment_id"], name=op.f("fk_audience_sync_state_segment_id_segments")
        ),
        sa.PrimaryKeyConstraint("destination_id", "segment_id", "customer_id", name=op.f("pk_audience_sync_state")),
    )
    op.create_index("ix_audience_sync_state_segment", "audience_sync_state", ["segment_id"], unique=False)
    op.create_table(
        "audience_sync_outbox",
        sa.Column("batch_id", sa.Text(), nullable=False),
        sa.Column("destination_id", sa.Text(), nullable=False),
        sa.Column("segment_id", sa.Text(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("adds", sa.BigInteger(), nullable=False),
        sa.Column("removes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["destination_id"],
            ["audience_destinations.destination_id"],
            name=op.f("fk_audience_sync_outbox_destination_id_audience_destinations"),
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segments.segment_id"], name=op.f("fk_audience_sync_outbox_segment_id_segments")
        ),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_audience_sync_outbox")),
    )
    op.create_index(
        "ix_audience_sync_outbox_pair",
        "audience_sync_outbox",
        ["destination_id", "segment_id", "created_at", "sequence"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_audience_sync_outbox_pair", table_name="audience_sync_outbox")
    op.drop_table("audience_sync_outbox")
    op.drop_index("ix_audience_sync_state_segment", table_name="audience_sync_state")
    op.drop_table("audience_sync_state")
    op.drop_table("audience_destinations")
