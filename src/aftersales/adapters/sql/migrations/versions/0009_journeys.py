"""journeys and messaging: definitions, versions, enrollments, the message outbox, suppressions,
send pacing and instance secrets (issue 15; adapters/sql/journey_tables.py explains each)

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aftersales.adapters.sql.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journeys",
        sa.Column("journey_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition_json", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("salt", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("activated_at", UTCDateTime(), nullable=True),
        sa.Column("scanned_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("journey_id", name=op.f("pk_journeys")),
        sa.UniqueConstraint("name", name=op.f("uq_journeys_name")),
    )
    op.create_table(
        "journey_versions",
        sa.Column("journey_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition_json", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["journey_id"], ["journeys.journey_id"], name=op.f("fk_journey_versions_journey_id_journeys")
        ),
        sa.PrimaryKeyConstraint("journey_id", "version", name=op.f("pk_journey_versions")),
    )
    op.create_table(
        "journey_enrollments",
        sa.Column("enrollment_id", sa.Text(), nullable=False),
        sa.Column("journey_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("trigger_key", sa.Text(), nullable=False),
        sa.Column("trigger_json", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("arm", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("step_id", sa.Text(), nullable=True),
        sa.Column("wake_at", UTCDateTime(), nullable=True),
        sa.Column("step_started_at", UTCDateTime(), nullable=True),
        sa.Column("variants_json", sa.Text(), nullable=True),
        sa.Column("entered_at", UTCDateTime(), nullable=False),
        sa.Column("exited_at", UTCDateTime(), nullable=True),
        sa.Column("exit_reason", sa.Text(), nullable=True),
        sa.Column("lease_token", sa.Text(), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["journey_id"], ["journeys.journey_id"], name=op.f("fk_journey_enrollments_journey_id_journeys")
        ),
        sa.PrimaryKeyConstraint("enrollment_id", name=op.f("pk_journey_enrollments")),
        sa.UniqueConstraint("journey_id", "trigger_key", name=op.f("uq_journey_enrollments_journey_id")),
    )
    op.create_index("ix_journey_enrollments_due", "journey_enrollments", ["status", "wake_at"], unique=False)
    op.create_index(
        "ix_journey_enrollments_customer", "journey_enrollments", ["journey_id", "customer_id"], unique=False
    )
    op.create_table(
        "journey_messages",
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("enrollment_id", sa.Text(), nullable=False),
        sa.Column("journey_id", sa.Text(), nullable=False),
        sa.Column("step_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("variant", sa.Text(), nullable=True),
        sa.Column("params_json", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("not_before", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("rfc_message_id", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("lease_token", sa.Text(), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["journey_enrollments.enrollment_id"],
            name=op.f("fk_journey_messages_enrollment_id_journey_enrollments"),
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_journey_messages")),
        sa.UniqueConstraint("enrollment_id", "step_id", name=op.f("uq_journey_messages_enrollment_id")),
    )
    op.create_index("ix_journey_messages_due", "journey_messages", ["status", "not_before"], unique=False)
    op.create_index(
        "ix_journey_messages_customer", "journey_messages", ["customer_id", "channel", "finished_at"], unique=False
    )
    op.create_index("ix_journey_messages_journey", "journey_messages", ["journey_id", "status"], unique=False)
    op.create_table(
        "suppressions",
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("address_hash", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "channel", "topic", name=op.f("pk_suppressions")),
    )
    op.create_table(
        "send_pacing",
        sa.Column("transport", sa.Text(), nullable=False),
        sa.Column("next_slot_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("transport", name=op.f("pk_send_pacing")),
    )
    op.create_table(
        "instance_secrets",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_instance_secrets")),
    )


def downgrade() -> None:
    for table in ("instance_secrets", "send_pacing", "suppressions"):
        op.drop_table(table)
    op.drop_index("ix_journey_messages_journey", table_name="journey_messages")
    op.drop_index("ix_journey_messages_customer", table_name="journey_messages")
    op.drop_index("ix_journey_messages_due", table_name="journey_messages")
    op.drop_table("journey_messages")
    op.drop_index("ix_journey_enrollments_customer", table_name="journey_enrollments")
    op.drop_index("ix_journey_enrollments_due", table_name="journey_enrollments")
    op.drop_table("journey_enrollments")
    op.drop_table("journey_versions")
    op.drop_table("journeys")
