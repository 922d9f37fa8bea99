"""fact indexes: the journey runtime reads facts by time (trigger scans) and by customer (a batch's
occurrences since entry); a due-claim index that a paused journey's backlog cannot slow (issue 15)

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# (index name, table, columns): adapters/sql/journey_tables.py declares the same on the metadata.
FACT_INDEXES = (
    ("ix_events_name_occurred_at", "events", ("name", "occurred_at")),
    ("ix_events_customer_name_occurred_at", "events", ("customer_id", "name", "occurred_at")),
    ("ix_orders_ordered_at", "orders", ("ordered_at",)),
    ("ix_orders_delivered_at", "orders", ("delivered_at",)),
    ("ix_orders_returned_at", "orders", ("returned_at",)),
    ("ix_product_registrations_registered_at", "product_registrations", ("registered_at",)),
    ("ix_tickets_opened_at", "tickets", ("opened_at",)),
    ("ix_survey_responses_responded_at", "survey_responses", ("responded_at",)),
)


def upgrade() -> None:
    for name, table, columns in FACT_INDEXES:
        op.create_index(name, table, list(columns), unique=False)
    op.create_index(
        "ix_journey_enrollments_active_due",
        "journey_enrollments",
        ["journey_id", "wake_at"],
        unique=False,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )


def downgrade() -> None:
    op.drop_index("ix_journey_enrollments_active_due", table_name="journey_enrollments")
    for name, table, _ in reversed(FACT_INDEXES):
        op.drop_index(name, table_name=table)
