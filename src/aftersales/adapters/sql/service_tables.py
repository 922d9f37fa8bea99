"""Tables of the service plane (not part of the data contract): API keys, idempotency records,
webhook subscriptions, deliveries and their attempts, and the stored CLV scores (migration 0003).

They live on the same ``metadata`` as the contract tables so that one Alembic history (migration
0002) creates them and a test can compare the migrated schema with these definitions.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    Table,
    Text,
)

from aftersales.adapters.sql.tables import metadata
from aftersales.adapters.sql.types import UTCDateTime

__all__ = [
    "api_keys",
    "clv_scores",
    "idempotency_keys",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_subscriptions",
]

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", Text, nullable=False),
    Column("name", Text, nullable=True),
    Column("scope", Text, nullable=False),
    Column("secret_hash", Text, nullable=False),  # SHA-256 hex of the whole key; the key itself is never stored
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    PrimaryKeyConstraint("key_id"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key_id", Text, nullable=False),  # the API key that made the request: keys are scoped per client
    Column("idempotency_key", Text, nullable=False),
    Column("fingerprint", Text, nullable=False),  # SHA-256 of method, path, query and body
    Column("state", Text, nullable=False),  # in_progress | completed
    Column("status_code", Integer, nullable=True),
    Column("content_type", Text, nullable=True),
    Column("body", LargeBinary, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("completed_at", UTCDateTime, nullable=True),
    PrimaryKeyConstraint("key_id", "idempotency_key"),
)

webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("subscription_id", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("event_types", Text, nullable=False),  # JSON array of event types ("*" = all)
    Column("secret", Text, nullable=False),  # signing secret: needed in clear to sign, so stored as is
    Column("active", Boolean, nullable=False),
    Column("description", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("subscription_id"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", Text, nullable=False),
    Column("subscription_id", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("payload", Text, nullable=False),  # the exact JSON body that is signed and sent
    Column("status", Text, nullable=False),  # pending | delivered | failed
    Column("attempt_count", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("lease_token", Text, nullable=True),  # the dispatcher sending it now (migration 0004)
    PrimaryKeyConstraint("delivery_id"),
    ForeignKeyConstraint(["subscription_id"], ["webhook_subscriptions.subscription_id"]),
)
Index("ix_webhook_deliveries_due", webhook_deliveries.c.status, webhook_deliveries.c.next_attempt_at)
Index("ix_webhook_deliveries_subscription_id", webhook_deliveries.c.subscription_id)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("delivery_id", Text, nullable=False),
    Column("attempt_number", Integer, nullable=False),
    Column("attempted_at", UTCDateTime, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("duration_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("delivery_id", "attempt_number"),
    ForeignKeyConstraint(["delivery_id"], ["webhook_deliveries.delivery_id"]),
)

clv_scores = Table(
    "clv_scores",
    metadata,
    Column("customer_id", Text, nullable=False),
    Column("model", Text, nullable=False),  # bgnbd | mbgnbd | paretonbd
    Column("calibration_end", Date, nullable=False),  # the orders up to this day were fitted and scored ("as of")
    Column("time_unit", Text, nullable=False),  # day | week: the unit of the horizon
    Column("horizon", Float, nullable=False),
    Column("p_alive", Float, nullable=False),
    Column("expected_purchases", Float, nullable=False),  # within the horizon
    Column("expected_spend", Float, nullable=True),  # per purchase (NULL: no spend to go by)
    Column("clv", Float, nullable=True),  # discounted margin over the horizon
    Column("risk_tier", Text, nullable=False),  # high | medium | low
    Column("computed_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("customer_id"),
    ForeignKeyConstraint(["customer_id"], ["customers.customer_id"]),
)
Index("ix_clv_scores_risk_tier", clv_scores.c.risk_tier, clv_scores.c.customer_id)
