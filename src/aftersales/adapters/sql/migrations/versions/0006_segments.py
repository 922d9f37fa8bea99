"""segments: saved segments, their memberships over time and their sizes per refresh (issue 14)

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aftersales.adapters.sql.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("segment_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("definition_json", sa.Text(), nullable=False),
        sa.Column("definition_text", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("segment_id", name=op.f("pk_segments")),
    )
    op.create_index(
        "ux_segments_name_live",
        "segments",
        ["name"],
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "segment_memberships",
        sa.Column("segment_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("entered_at", UTCDateTime(), nullable=False),
        sa.Column("exited_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segments.segment_id"], name=op.f("fk_segment_memberships_segment_id_segments")
        ),
        sa.PrimaryKeyConstraint("segment_id", "customer_id", "entered_at", name=op.f("pk_segment_memberships")),
    )
    op.create_index("ix_segment_memberships_current", "segment_memberships", ["segment_id", "exited_at"], unique=False)
    op.create_table(
        "segment_sizes",
        sa.Column("segment_id", sa.Text(), nullable=False),
        sa.Column("refreshed_at", UTCDateTime(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("entered", sa.BigInteger(), nullable=False),
        sa.Column("exited", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segments.segment_id"], name=op.f("fk_segment_sizes_segment_id_segments")
        ),
        sa.PrimaryKeyConstraint("segment_id", "refreshed_at", name=op.f("pk_segment_sizes")),
    )


def downgrade() -> None:
    op.drop_table("segment_sizes")
    op.drop_index("ix_segment_memberships_current", table_name="segment_memberships")
    op.drop_table("segment_memberships")
    op.drop_index("ux_segments_name_live", table_name="segments")
    op.drop_table("segments")
