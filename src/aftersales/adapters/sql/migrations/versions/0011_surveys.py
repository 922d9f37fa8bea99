"""surveys and reviews: definitions, versions, sends (the invitations and where each answer stands)
and product reviews (issue 16; adapters/sql/survey_tables.py explains each)

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aftersales.adapters.sql.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("survey_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition_json", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("survey_id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("name", name=op.f("uq_surveys_name")),
    )
    op.create_table(
        "survey_versions",
        sa.Column("survey_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition_json", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.survey_id"], name=op.f("fk_survey_versions_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("survey_id", "version", name=op.f("pk_survey_versions")),
    )
    op.create_table(
        "survey_sends",
        sa.Column("send_id", sa.Text(), nullable=False),
        sa.Column("survey_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=True),
        sa.Column("product_id", sa.Text(), nullable=True),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("first_answered_at", UTCDateTime(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.Column("response_id", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"], name=op.f("fk_survey_sends_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["survey_id", "version"],
            ["survey_versions.survey_id", "survey_versions.version"],
            name=op.f("fk_survey_sends_survey_id_survey_versions"),
        ),
        sa.PrimaryKeyConstraint("send_id", name=op.f("pk_survey_sends")),
    )
    op.create_index("ix_survey_sends_customer", "survey_sends", ["customer_id", "sent_at"], unique=False)
    op.create_index("ix_survey_sends_survey", "survey_sends", ["survey_id", "status"], unique=False)
    op.create_table(
        "product_reviews",
        sa.Column("review_id", sa.Text(), nullable=False),
        sa.Column("send_id", sa.Text(), nullable=False),
        sa.Column("survey_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("product_id", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("locale", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("incentivised", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("moderated_at", UTCDateTime(), nullable=True),
        sa.Column("moderation_note", sa.Text(), nullable=True),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["send_id"], ["survey_sends.send_id"], name=op.f("fk_product_reviews_send_id_survey_sends")
        ),
        sa.PrimaryKeyConstraint("review_id", name=op.f("pk_product_reviews")),
        sa.UniqueConstraint("send_id", name=op.f("uq_product_reviews_send_id")),
    )
    op.create_index("ix_product_reviews_product", "product_reviews", ["product_id", "status"], unique=False)
    op.create_index("ix_product_reviews_status", "product_reviews", ["status", "updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_product_reviews_status", table_name="product_reviews")
    op.drop_index("ix_product_reviews_product", table_name="product_reviews")
    op.drop_table("product_reviews")
    op.drop_index("ix_survey_sends_survey", table_name="survey_sends")
    op.drop_index("ix_survey_sends_customer", table_name="survey_sends")
    op.drop_table("survey_sends")
    op.drop_table("survey_versions")
    op.drop_table("surveys")
