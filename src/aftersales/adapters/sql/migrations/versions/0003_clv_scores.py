"""clv scores: one stored CLV score and churn-risk tier per customer (``aftersales clv refresh``)

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aftersales.adapters.sql.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clv_scores",
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("calibration_end", sa.Date(), nullable=False),
        sa.Column("time_unit", sa.Text(), nullable=False),
        sa.Column("horizon", sa.Float(), nullable=False),
        sa.Column("p_alive", sa.Float(), nullable=False),
        sa.Column("expected_purchases", sa.Float(), nullable=False),
        sa.Column("expected_spend", sa.Float(), nullable=True),
        sa.Column("clv", sa.Float(), nullable=True),
        sa.Column("risk_tier", sa.Text(), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"], name=op.f("fk_clv_scores_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_clv_scores")),
    )
    op.create_index("ix_clv_scores_risk_tier", "clv_scores", ["risk_tier", "customer_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_clv_scores_risk_tier", table_name="clv_scores")
    op.drop_table("clv_scores")
