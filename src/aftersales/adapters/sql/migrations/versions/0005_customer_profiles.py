"""customer profiles: one row per customer, the hub of segments and audiences (``aftersales refresh``)

Revision ID: 0005
Revises: 0004

The columns are the profile catalogue as it stood when this revision was written (issue 14); a later
change of the catalogue needs its own revision (the schema test compares the store with the table).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aftersales.adapters.sql.profile_tables import TextList
from aftersales.adapters.sql.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_COLUMNS: tuple[tuple[str, str], ...] = (
    ("customer_id", "text"),
    ("first_order_at", "timestamp"),
    ("last_order_at", "timestamp"),
    ("orders", "int"),
    ("revenue", "float"),
    ("aov", "float"),
    ("days_since_last_order", "int"),
    ("historical_clv", "float"),
    ("predicted_purchases_365d", "float"),
    ("predicted_clv_365d", "float"),
    ("p_alive", "float"),
    ("expected_next_order_on", "date"),
    ("churn_risk", "text"),
    ("rfm_recency", "int"),
    ("rfm_frequency", "int"),
    ("rfm_monetary", "int"),
    ("rfm_segment", "text"),
    ("clv_tier", "text"),
    ("clv_quantile_tier", "int"),
    ("last_nps_score", "int"),
    ("last_nps_class", "text"),
    ("last_csat_score", "int"),
    ("open_tickets", "int"),
    ("categories_bought", "text_list"),
    ("products_registered", "text_list"),
    ("next_maintenance_due_on", "date"),
    ("warranty_ends_on", "date"),
    ("email_consent", "bool"),
    ("sms_consent", "bool"),
    ("acquisition_channel", "text"),
    ("country", "text"),
    ("lookalike_score", "float"),
)
_TYPES = {
    "int": sa.BigInteger,
    "float": sa.Float,
    "text": sa.Text,
    "bool": sa.Boolean,
    "timestamp": UTCDateTime,
    "date": sa.Date,
    "text_list": TextList,
}


def upgrade() -> None:
    op.create_table(
        "customer_profiles",
        *(sa.Column(name, _TYPES[kind](), nullable=name != "customer_id") for name, kind in _COLUMNS),
        sa.Column("refreshed_at", UTCDateTime(), nullable=False),
        sa.Column("predictive_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"], name=op.f("fk_customer_profiles_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_profiles")),
    )


def downgrade() -> None:
    op.drop_table("customer_profiles")
