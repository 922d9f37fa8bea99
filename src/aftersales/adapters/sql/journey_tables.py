"""Tables of journeys and messaging (migration 0009; docs/journeys.md, docs/email.md).

* ``journeys``: one row per journey: its current definition (JSON text, validated against the
  published schema), version, status (``active`` | ``paused`` | ``archived``) and the salt that
  makes its holdout and split assignments sticky. ``activated_at`` is when it first became active:
  trigger facts older than that (less the definition's look-back) never enroll anybody.
  ``scanned_until`` is the trigger scanner's cursor on the facts' own time.
* ``journey_versions``: every definition ever applied, so an enrollment's history stays readable.
* ``journey_enrollments``: one row per (journey, trigger occurrence): ``trigger_key`` (an event id, an
  order id, ``rule:date``) is unique per journey, so a scan repeated after a crash enrolls nobody twice.
  ``arm`` is ``journey`` or ``holdout`` (holdout rows take no step: they exist to be compared with).
  ``step_id`` is the step to run when ``wake_at`` comes; ``status`` is ``active`` (due at
  ``wake_at``), ``completed``, ``exited`` (with ``exit_reason``) or ``held_out``. ``lease_*`` marks the
  worker advancing it now (SKIP LOCKED on PostgreSQL, a conditional update on SQLite).
* ``journey_messages``: the outbox: one row per (enrollment, step), written in the same transaction
  as the step that decided it, before any channel sees it. Its ``status`` runs ``queued`` ->
  ``sending`` (committed before the attempt) -> ``sent`` | ``failed`` | ``suppressed`` | ``skipped``
  | ``cancelled``; a ``sending`` row whose lease ran out is marked ``unknown`` and never resent
  silently. ``not_before`` defers (quiet hours, rate limit), ``rfc_message_id`` is the stable
  Message-ID. ``detail`` holds a reason or error, never an address.
* ``suppressions``: who must not get a channel's messages (per topic, ``*`` for all): unsubscribes,
  hard bounces, complaints, manual entries; checked at send time. ``address_hash`` scopes a bounce
  to the address that bounced (SHA-256 of the normalised address), so a new address is mailed again.
* ``send_pacing``: one row per transport: the next free sending slot. Workers reserve slots with one
  update, so N workers together stay under the transport's rate.
* ``instance_secrets``: keys generated at first use (the token-signing key when none is configured).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)

from aftersales.adapters.sql.tables import TABLES, metadata
from aftersales.adapters.sql.types import UTCDateTime

__all__ = [
    "instance_secrets",
    "journey_enrollments",
    "journey_messages",
    "journey_versions",
    "journeys",
    "send_pacing",
    "suppressions",
]

journeys = Table(
    "journeys",
    metadata,
    Column("journey_id", Text, nullable=False),  # jny_<hex>
    Column("name", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("definition_json", Text, nullable=False),
    Column("status", Text, nullable=False),  # active | paused | archived
    Column("salt", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("activated_at", UTCDateTime, nullable=True),
    Column("scanned_until", UTCDateTime, nullable=True),
    PrimaryKeyConstraint("journey_id"),
    UniqueConstraint("name"),
)

journey_versions = Table(
    "journey_versions",
    metadata,
    Column("journey_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("definition_json", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("journey_id", "version"),
    ForeignKeyConstraint(["journey_id"], ["journeys.journey_id"]),
)

journey_enrollments = Table(
    "journey_enrollments",
    metadata,
    Column("enrollment_id", Text, nullable=False),
    Column("journey_id", Text, nullable=False),
    Column("customer_id", Text, nullable=False),
    Column("trigger_key", Text, nullable=False),
    Column("trigger_json", Text, nullable=True),  # the trigger's properties (JSON object)
    Column("version", Integer, nullable=False),  # definition version at entry
    Column("arm", Text, nullable=False),  # journey | holdout
    Column("status", Text, nullable=False),  # active | completed | exited | held_out
    Column("step_id", Text, nullable=True),
    Column("wake_at", UTCDateTime, nullable=True),
    Column("step_started_at", UTCDateTime, nullable=True),
    Column("variants_json", Text, nullable=True),  # {split step id: variant}
    Column("entered_at", UTCDateTime, nullable=False),
    Column("exited_at", UTCDateTime, nullable=True),
    Column("exit_reason", Text, nullable=True),
    Column("lease_token", Text, nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    PrimaryKeyConstraint("enrollment_id"),
    UniqueConstraint("journey_id", "trigger_key"),
    ForeignKeyConstraint(["journey_id"], ["journeys.journey_id"]),
)
Index("ix_journey_enrollments_due", journey_enrollments.c.status, journey_enrollments.c.wake_at)
Index("ix_journey_enrollments_customer", journey_enrollments.c.journey_id, journey_enrollments.c.customer_id)
# Claims of one journey's due rows, which a paused journey's backlog cannot slow (migration 0012).
Index(
    "ix_journey_enrollments_active_due",
    journey_enrollments.c.journey_id,
    journey_enrollments.c.wake_at,
    sqlite_where=journey_enrollments.c.status == "active",
    postgresql_where=journey_enrollments.c.status == "active",
)

# Facts by time (trigger scans) and by customer (occurrences since entry) on the contract tables the
# journey runtime reads (migration 0012).
_FACT_INDEXES = (
    ("ix_events_name_occurred_at", "events", ("name", "occurred_at")),
    ("ix_events_customer_name_occurred_at", "events", ("customer_id", "name", "occurred_at")),
    ("ix_orders_ordered_at", "orders", ("ordered_at",)),
    ("ix_orders_delivered_at", "orders", ("delivered_at",)),
    ("ix_orders_returned_at", "orders", ("returned_at",)),
    ("ix_product_registrations_registered_at", "product_registrations", ("registered_at",)),
    ("ix_tickets_opened_at", "tickets", ("opened_at",)),
    ("ix_survey_responses_responded_at", "survey_responses", ("responded_at",)),
)
for _name, _table, _columns in _FACT_INDEXES:
    Index(_name, *(TABLES[_table].c[c] for c in _columns))

journey_messages = Table(
    "journey_messages",
    metadata,
    Column("message_id", Text, nullable=False),  # msg_<hex>, derived from (enrollment, step)
    Column("enrollment_id", Text, nullable=False),
    Column("journey_id", Text, nullable=False),
    Column("step_id", Text, nullable=False),
    Column("customer_id", Text, nullable=False),
    Column("channel", Text, nullable=False),  # email | webhook | ...
    Column("category", Text, nullable=False),  # marketing | transactional
    Column("topic", Text, nullable=False),
    Column("variant", Text, nullable=True),
    Column("params_json", Text, nullable=False),  # what the step asked for (template, url, ...)
    Column("status", Text, nullable=False),
    Column("not_before", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("rfc_message_id", Text, nullable=True),
    Column("detail", Text, nullable=True),
    Column("lease_token", Text, nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    PrimaryKeyConstraint("message_id"),
    UniqueConstraint("enrollment_id", "step_id"),
    ForeignKeyConstraint(["enrollment_id"], ["journey_enrollments.enrollment_id"]),
)
Index("ix_journey_messages_due", journey_messages.c.status, journey_messages.c.not_before)
Index(
    "ix_journey_messages_customer",
    journey_messages.c.customer_id,
    journey_messages.c.channel,
    journey_messages.c.finished_at,
)
Index("ix_journey_messages_journey", journey_messages.c.journey_id, journey_messages.c.status)

suppressions = Table(
    "suppressions",
    metadata,
    Column("customer_id", Text, nullable=False),
    Column("channel", Text, nullable=False),  # email | sms | ...
    Column("topic", Text, nullable=False),  # a topic, or * for every marketing topic
    Column("reason", Text, nullable=False),  # unsubscribed | hard_bounce | complaint | manual
    Column("address_hash", Text, nullable=True),
    Column("source", Text, nullable=True),  # the message that caused it, if any
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("customer_id", "channel", "topic"),
)

send_pacing = Table(
    "send_pacing",
    metadata,
    Column("transport", Text, nullable=False),
    Column("next_slot_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("transport"),
)

instance_secrets = Table(
    "instance_secrets",
    metadata,
    Column("name", Text, nullable=False),
    Column("value", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("name"),
)
