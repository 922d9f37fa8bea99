"""The canonical data contract: every importer maps onto it, every metric reads it.

Defined once here; the SQL tables (``adapters/sql/tables.py``), the Arrow schemas the generator
writes, the importer's validation and ``docs/data-contract.md`` are all derived from it.

Types are logical:

=========== ======================================= =========================================
type        in the store (SQLite / PostgreSQL)      in analytics (Arrow / Ibis)
=========== ======================================= =========================================
string      VARCHAR / TEXT                          string
int         BIGINT                                  int64
bool        BOOLEAN                                 bool
money       NUMERIC(18, 2) (exact)                  float64
timestamp   TIMESTAMP WITH TIME ZONE, UTC           timestamp[us, tz=UTC]
date        DATE                                    date32
json        TEXT holding a JSON object              string (JSON text)
=========== ======================================= =========================================

Time stamps must carry a zone on input (``2024-03-01T10:00:00+01:00``); they are stored in UTC.
A date-only value (``2024-03-01``) in a time stamp column means the start of that day in the
reporting time zone (or the zone an import is told to assume), so it lands on the day it names.
Calendar periods (month, quarter) are cut in the business's reporting time zone
(``Settings.reporting_timezone``), never in the server's.

Limits every writer applies (the importers in ``core/validation.py``, the API's schemas), so what
one entry point accepts the other accepts too, and neither database refuses it:

- text holds no NUL character (PostgreSQL cannot store one) and no lone surrogate (not UTF-8);
  at most ``MAX_TEXT_LENGTH`` characters, keys and references at most ``MAX_KEY_LENGTH``;
- money has at most ``MONEY_DECIMALS`` decimal places (a fraction of a cent is refused, never
  rounded silently) and an absolute value below ``MONEY_LIMIT`` (``NUMERIC(18, 2)`` holds 16 digits
  before the point);
- integers fit in 64 bits (``BIGINT``);
- survey scores lie on their kind's scale (``SURVEY_SCALES``: NPS 0-10, CSAT 1-5, CES 1-7);
- a text column with a ``text_format`` holds a value of that form, normalised by
  :func:`normalise_text` (``TEXT_FORMATS``: an IANA time zone, a locale identifier).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from aftersales.core.errors import ContractError
from aftersales.core.localtime import parse_locale, parse_timezone

if (
    TYPE_CHECKING
):  # Arrow is imported by arrow_schema alone: the store, the CLI and the API read the contract without it
    import pyarrow as pa

__all__ = [
    "CONTRACT_VERSION",
    "INT_LIMIT",
    "MAX_JSON_LENGTH",
    "MAX_KEY_LENGTH",
    "MAX_TEXT_LENGTH",
    "MAX_YEAR",
    "MIN_YEAR",
    "MONEY_DECIMALS",
    "MONEY_LIMIT",
    "SURVEY_SCALES",
    "TABLES",
    "TEXT_FORMATS",
    "YEARS_MESSAGE",
    "Column",
    "LogicalType",
    "Table",
    "TextFormat",
    "arrow_schema",
    "contract_utc",
    "get_table",
    "normalise_text",
]

CONTRACT_VERSION = "1"
# Time stamps must fall in these years once in UTC: plausible business dates, inside which calendar
# arithmetic is safe on every engine. Importers, the API and event ingestion all apply it.
MIN_YEAR, MAX_YEAR = 1900, 2199
YEARS_MESSAGE = f"time stamp must fall in the years {MIN_YEAR}-{MAX_YEAR} once converted to UTC"
# Text: free text (names, comments) and keys (ids that appear in API paths); JSON objects as text.
MAX_TEXT_LENGTH = 10_000
MAX_KEY_LENGTH = 255
MAX_JSON_LENGTH = 1_000_000
# Money is NUMERIC(18, 2): two decimals, |value| < 10^16. Integers are BIGINT: |value| < 2^63.
MONEY_DECIMALS = 2
MONEY_LIMIT = 10**16
INT_LIMIT = 2**63
# Survey scales, inclusive, by survey kind: the importer, the API and the generator all apply them.
SURVEY_SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


def contract_utc(when: datetime) -> datetime:
    """``when`` (zone-aware) in UTC; :class:`ValueError` (``YEARS_MESSAGE``) outside the contract's years.

    >>> from datetime import timedelta, timezone
    >>> contract_utc(datetime(1900, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=-1)))).isoformat()
    '1900-01-01T01:30:00+00:00'
    >>> contract_utc(datetime(1900, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))))
    Traceback (most recent call last):
    ValueError: time stamp must fall in the years 1900-2199 once converted to UTC
    """
    try:
        utc = when.astimezone(UTC)
    except OverflowError:  # years 1 and 9999 can leave datetime's range
        raise ValueError(YEARS_MESSAGE) from None
    if not MIN_YEAR <= utc.year <= MAX_YEAR:
        raise ValueError(YEARS_MESSAGE)
    return utc


LogicalType = Literal["string", "int", "bool", "money", "timestamp", "date", "json"]
TextFormat = Literal["timezone", "locale"]
# What each text format accepts (docs/data-contract.md shows these); normalise_text applies them.
TEXT_FORMATS: dict[TextFormat, str] = {
    "timezone": "IANA zone name (`Europe/Berlin`); unset: `AFTERSALES_DEFAULT_TIMEZONE`",
    "locale": "locale (`en`, `en_US`, `de-CH` stored as `de_CH`); unset: `AFTERSALES_DEFAULT_LOCALE`",
}


def normalise_text(text_format: TextFormat, value: str) -> str:
    """``value`` in its normal form for ``text_format``; :class:`ValueError` saying what is wrong.

    Importers, the API and the generator all apply it (``core/localtime.py`` holds the rules).

    >>> normalise_text("timezone", "america/new_york"), normalise_text("locale", "de-CH")
    ('America/New_York', 'de_CH')
    """
    return parse_timezone(value) if text_format == "timezone" else parse_locale(value)


@dataclass(frozen=True)
class Column:
    """One column of a canonical table."""

    name: str
    type: LogicalType
    description: str
    required: bool = False
    references: str | None = None  # "table.column" foreign key
    choices: tuple[str, ...] | None = None  # allowed values for a string column
    minimum: float | None = None  # inclusive lower bound for numbers
    default: object = None
    # The allowed range depends on another column: (its value, lowest, highest), e.g. survey scales.
    scale_by: str | None = None
    scales: tuple[tuple[str, int, int], ...] = ()
    text_format: TextFormat | None = None  # a string column whose values have a form (normalise_text)


@dataclass(frozen=True)
class Table:
    """One canonical table: its columns and its natural key (the upsert key)."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required or c.name in self.key)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise ContractError(f"table {self.name!r} has no column {name!r}")

    @property
    def parents(self) -> dict[str, tuple[str, str]]:
        """``{column: (parent_table, parent_column)}`` for every foreign key."""
        out: dict[str, tuple[str, str]] = {}
        for c in self.columns:
            if c.references:
                t, col = c.references.split(".")
                out[c.name] = (t, col)
        return out


_c = Column  # a short name for the many column definitions below


ORDER_STATUSES = ("placed", "paid", "shipped", "delivered", "returned", "cancelled")
SUBSCRIPTION_STATUSES = ("trialing", "active", "paused", "cancelled")
SURVEY_KINDS = tuple(SURVEY_SCALES)
COST_KINDS = ("acquisition", "retention", "service")

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "customers",
            "One row per customer (a person or account that can buy).",
            (
                _c("customer_id", "string", "Stable identifier from the source system.", required=True),
                _c("email", "string", "E-mail address (PII: never logged)."),
                _c("phone", "string", "Phone number in E.164 where known (PII: never logged)."),
                _c("name", "string", "Display name (PII)."),
                _c("country", "string", "ISO 3166-1 alpha-2 country code."),
                _c("acquisition_channel", "string", "Channel that acquired the customer (organic, paid_search, ...)."),
                _c("created_at", "timestamp", "When the customer was created / first seen."),
                _c("email_consent", "bool", "May receive marketing e-mail.", default=False),
                _c("sms_consent", "bool", "May receive marketing SMS / phone messages.", default=False),
                _c("timezone", "string", "Own time zone: quiet hours, send times.", text_format="timezone"),
                _c("locale", "string", "Language and region of messages.", text_format="locale"),
            ),
            ("customer_id",),
        ),
        Table(
            "products",
            "The catalogue: what can be sold and serviced.",
            (
                _c("product_id", "string", "Stable product / SKU identifier.", required=True),
                _c("name", "string", "Product name."),
                _c("category", "string", "Category (for segments and lifecycle journeys)."),
                _c("price", "money", "List price per unit.", minimum=0),
                _c("unit_cost", "money", "Cost of goods per unit.", minimum=0),
                _c("service_interval_days", "int", "Recommended maintenance / service interval in days.", minimum=1),
                _c("warranty_days", "int", "Warranty length in days.", minimum=0),
            ),
            ("product_id",),
        ),
        Table(
            "orders",
            "One row per order. Revenue is net of discounts, before tax and shipping.",
            (
                _c("order_id", "string", "Stable order identifier.", required=True),
                _c("customer_id", "string", "Who ordered.", required=True, references="customers.customer_id"),
                _c("status", "string", "Lifecycle status.", choices=ORDER_STATUSES, default="placed"),
                _c("ordered_at", "timestamp", "When the order was placed.", required=True),
                _c("delivered_at", "timestamp", "When it was delivered (null until then)."),
                _c("returned_at", "timestamp", "When it was returned (null if not returned)."),
                _c("cancelled_at", "timestamp", "When it was cancelled (null if not cancelled)."),
                _c("currency", "string", "ISO 4217 currency code.", default="USD"),
                _c(
                    "revenue",
                    "money",
                    "Order revenue net of discount, excluding tax and shipping.",
                    required=True,
                    minimum=0,
                ),
                _c("discount", "money", "Discount granted on the order.", minimum=0, default=0),
                _c("cost_of_goods", "money", "Cost of the goods sold in the order.", minimum=0),
                _c("channel", "string", "Sales channel (web, store, marketplace, ...)."),
            ),
            ("order_id",),
        ),
        Table(
            "order_lines",
            "The items of an order.",
            (
                _c("order_id", "string", "The order.", required=True, references="orders.order_id"),
                _c("line_number", "int", "1-based position in the order.", required=True, minimum=1),
                _c("product_id", "string", "The product.", required=True, references="products.product_id"),
                _c("quantity", "int", "Units.", required=True, minimum=0),
                _c(
                    "unit_price",
                    "money",
                    "Price per unit actually charged, before line discount.",
                    required=True,
                    minimum=0,
                ),
                _c("discount", "money", "Discount on the line.", minimum=0, default=0),
            ),
            ("order_id", "line_number"),
        ),
        Table(
            "subscriptions",
            "Recurring plans (contractual customers).",
            (
                _c("subscription_id", "string", "Stable subscription identifier.", required=True),
                _c("customer_id", "string", "Subscriber.", required=True, references="customers.customer_id"),
                _c("plan", "string", "Plan name."),
                _c("status", "string", "Current status.", choices=SUBSCRIPTION_STATUSES, default="active"),
                _c("started_at", "timestamp", "Start of the subscription.", required=True),
                _c("cancelled_at", "timestamp", "When cancellation took effect (null while active)."),
                _c("cancel_reason", "string", "Why it was cancelled, if known."),
            ),
            ("subscription_id",),
        ),
        Table(
            "subscription_mrr",
            "MRR history: from effective_at on, the subscription is worth mrr per month (0 once cancelled).",
            (
                _c(
                    "subscription_id",
                    "string",
                    "The subscription.",
                    required=True,
                    references="subscriptions.subscription_id",
                ),
                _c("effective_at", "timestamp", "When this MRR starts to apply.", required=True),
                _c("mrr", "money", "Monthly recurring revenue from then on.", required=True, minimum=0),
            ),
            ("subscription_id", "effective_at"),
        ),
        Table(
            "product_registrations",
            "Products registered by their owners (warranty, app pairing, ...): the start of a product lifecycle.",
            (
                _c("registration_id", "string", "Stable registration identifier.", required=True),
                _c("customer_id", "string", "Owner.", required=True, references="customers.customer_id"),
                _c("product_id", "string", "Registered product.", required=True, references="products.product_id"),
                _c("serial_number", "string", "Serial number of the unit."),
                _c("purchased_at", "timestamp", "When the unit was bought."),
                _c("registered_at", "timestamp", "When it was registered.", required=True),
            ),
            ("registration_id",),
        ),
        Table(
            "tickets",
            "Support tickets.",
            (
                _c("ticket_id", "string", "Stable ticket identifier.", required=True),
                _c("customer_id", "string", "Who asked.", required=True, references="customers.customer_id"),
                _c("order_id", "string", "Order concerned, if any.", references="orders.order_id"),
                _c("product_id", "string", "Product concerned, if any.", references="products.product_id"),
                _c("category", "string", "Topic (shipping, returns, defect, how-to, billing, ...)."),
                _c("channel", "string", "Channel (email, chat, phone, ...)."),
                _c(
                    "status",
                    "string",
                    "open / pending / solved / closed.",
                    choices=("open", "pending", "solved", "closed"),
                    default="open",
                ),
                _c("opened_at", "timestamp", "When it was opened.", required=True),
                _c("resolved_at", "timestamp", "When it was solved (null while open)."),
            ),
            ("ticket_id",),
        ),
        Table(
            "survey_responses",
            "Survey answers, one row per (response, dimension). The headline answer has dimension 'overall'.",
            (
                _c("response_id", "string", "Stable response identifier.", required=True),
                _c(
                    "dimension",
                    "string",
                    "What the score rates: 'overall', 'shipping', 'returns', ...",
                    required=True,
                    default="overall",
                ),
                _c("survey_id", "string", "Which survey.", required=True),
                _c("customer_id", "string", "Respondent (null when anonymous).", references="customers.customer_id"),
                _c("order_id", "string", "Order the survey was about, if any.", references="orders.order_id"),
                _c(
                    "kind",
                    "string",
                    ", ".join(f"{k} ({lo}-{hi})" for k, (lo, hi) in SURVEY_SCALES.items()) + ".",
                    required=True,
                    choices=SURVEY_KINDS,
                ),
                _c(
                    "score",
                    "int",
                    "The score on the kind's scale.",
                    required=True,
                    minimum=0,
                    scale_by="kind",
                    scales=tuple((kind, lo, hi) for kind, (lo, hi) in SURVEY_SCALES.items()),
                ),
                _c("comment", "string", "Free-text comment."),
                _c("responded_at", "timestamp", "When it was answered.", required=True),
            ),
            ("response_id", "dimension"),
        ),
        Table(
            "events",
            "Touchpoints (checkout_started, checkout_completed, product_activated, message_opened, ...). "
            "customer_id is not a foreign key: events may arrive before the customer record does.",
            (
                _c("event_id", "string", "Client event id (idempotency key).", required=True),
                _c("customer_id", "string", "Known customer, if any."),
                _c("anonymous_id", "string", "Device / session id when the customer is unknown."),
                _c("name", "string", "Event name.", required=True),
                _c("occurred_at", "timestamp", "When it happened.", required=True),
                _c("properties", "json", "JSON object with event properties."),
            ),
            ("event_id",),
        ),
        Table(
            "costs",
            "Costs for profitability: per customer (customer_id set) or per period (period_start/period_end set, "
            "optionally limited to an acquisition channel).",
            (
                _c("cost_id", "string", "Stable cost identifier.", required=True),
                _c("kind", "string", "acquisition, retention or service.", required=True, choices=COST_KINDS),
                _c("customer_id", "string", "Customer the cost is attributed to.", references="customers.customer_id"),
                _c("period_start", "date", "First day of the period the cost covers (period costs)."),
                _c("period_end", "date", "Day after the last day of the period (period costs)."),
                _c("channel", "string", "Acquisition channel the period cost belongs to, if any."),
                _c("amount", "money", "Amount spent.", required=True, minimum=0),
                _c("description", "string", "What it was."),
            ),
            ("cost_id",),
        ),
    )
}


def get_table(name: str) -> Table:
    """The contract table ``name``; raises :class:`ContractError` listing the valid names."""
    try:
        return TABLES[name]
    except KeyError:
        raise ContractError(f"unknown table {name!r}; the contract has: {', '.join(TABLES)}") from None


def arrow_schema(table: str | Table) -> pa.Schema:
    """The analytical (Arrow) schema of a contract table (the types of the table above).

    pyarrow is imported here rather than when the module loads: importing it costs about 0.4 s of CPU,
    which every command that touches the contract would pay (``keys create`` only writes a row)."""
    import pyarrow as pa

    arrow_types: dict[LogicalType, pa.DataType] = {
        "string": pa.string(),
        "int": pa.int64(),
        "bool": pa.bool_(),
        "money": pa.float64(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "date": pa.date32(),
        "json": pa.string(),
    }
    t = get_table(table) if isinstance(table, str) else table
    return pa.schema(
        [pa.field(c.name, arrow_types[c.type], nullable=not (c.required or c.name in t.key)) for c in t.columns]
    )
