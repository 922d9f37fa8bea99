"""Tables of surveys and reviews (migration 0011; docs/surveys.md).

* ``surveys``: one row per survey: its current definition (canonical JSON), kind, version and status
  (``active`` | ``archived``). ``name`` is unique.
* ``survey_versions``: every definition ever applied, written once per version: a send names the
  version it was made with, and its page shows that version's questions.
* ``survey_sends``: one row per invitation (``send_id`` = ``snd_`` + a hash of the sender's key, so a
  journey step repeated after a crash makes one send): customer, survey version, the order or product
  asked about, ``sent_at`` (the throttle's clock), ``expires_at`` (the link's), and where the
  answer stands: ``status`` ``sent`` -> ``partial`` (a score from the link) -> ``answered`` (the
  form sent), ``first_answered_at`` (the edit window runs from it), ``answered_at``, ``updated_at``
  and ``response_id`` (the ``survey_responses`` rows, or the review).
* ``product_reviews``: one row per review (one per send): rating 1-5, title, text, the reader's
  locale, moderation ``status`` (``pending`` | ``published`` | ``rejected``), ``incentivised``,
  ``moderation_note`` (the moderator's, never shown), ``published_at``.

Answers to NPS, CSAT and CES surveys live in the contract's ``survey_responses`` (one row per
dimension, the headline as ``overall`` with the comment), where every metric already reads them.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)

from aftersales.adapters.sql.tables import metadata
from aftersales.adapters.sql.types import UTCDateTime

__all__ = ["product_reviews", "survey_sends", "survey_versions", "surveys"]

surveys = Table(
    "surveys",
    metadata,
    Column("survey_id", Text, nullable=False),  # srv_<hex>
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("definition_json", Text, nullable=False),
    Column("status", Text, nullable=False),  # active | archived
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("survey_id"),
    UniqueConstraint("name"),
)

survey_versions = Table(
    "survey_versions",
    metadata,
    Column("survey_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("definition_json", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("survey_id", "version"),
    ForeignKeyConstraint(["survey_id"], ["surveys.survey_id"]),
)

survey_sends = Table(
    "survey_sends",
    metadata,
    Column("send_id", Text, nullable=False),  # snd_<hex>
    Column("survey_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("customer_id", Text, nullable=False),
    Column("order_id", Text, nullable=True),
    Column("product_id", Text, nullable=True),
    Column("channel", Text, nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("status", Text, nullable=False),  # sent | partial | answered
    Column("first_answered_at", UTCDateTime, nullable=True),
    Column("answered_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=True),
    Column("response_id", Text, nullable=True),
    PrimaryKeyConstraint("send_id"),
    ForeignKeyConstraint(["survey_id", "version"], ["survey_versions.survey_id", "survey_versions.version"]),
    ForeignKeyConstraint(["customer_id"], ["customers.customer_id"]),
    Index("ix_survey_sends_customer", "customer_id", "sent_at"),
    Index("ix_survey_sends_survey", "survey_id", "status"),
)

product_reviews = Table(
    "product_reviews",
    metadata,
    Column("review_id", Text, nullable=False),  # rev_<hex>
    Column("send_id", Text, nullable=False),
    Column("survey_id", Text, nullable=False),
    Column("customer_id", Text, nullable=False),
    Column("product_id", Text, nullable=False),
    Column("order_id", Text, nullable=True),
    Column("rating", Integer, nullable=False),
    Column("title", Text, nullable=True),
    Column("body", Text, nullable=True),
    Column("locale", Text, nullable=True),
    Column("status", Text, nullable=False),  # pending | published | rejected
    Column("incentivised", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("moderated_at", UTCDateTime, nullable=True),
    Column("moderation_note", Text, nullable=True),
    Column("published_at", UTCDateTime, nullable=True),
    PrimaryKeyConstraint("review_id"),
    UniqueConstraint("send_id"),
    ForeignKeyConstraint(["send_id"], ["survey_sends.send_id"]),
    Index("ix_product_reviews_product", "product_id", "status"),
    Index("ix_product_reviews_status", "status", "updated_at"),
)
