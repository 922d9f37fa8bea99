"""The catalogue of customer-profile fields a segment may name: one declarative table.

The ``customer_profiles`` table (issue 14 item 1) has one row per customer and these columns. The
segment language type-checks against this table, the compiler reads its column names, and the
profile builder derives its output schema from it (:func:`profile_schema`), so a field exists in
exactly one place.

Field types and what a condition may do with them:

============ ============================ ==================================================
type         in analytics (Ibis)          operators
============ ============================ ==================================================
int, float   int64, float64               ``= != < <= > >=``, ``in``, ``between``, null checks
text         string                       ``= !=``, ``in``, null checks (``choices`` enforced)
bool         boolean                      bare field, ``= !=`` with ``true``/``false``, null checks
timestamp    timestamp('UTC')             ``= != < <= > >=``, ``between`` with timestamps, dates, ``now``
date         date (a UTC calendar day)    ``= != < <= > >=``, ``between`` with dates, ``now``
text_list    array<string>                ``contains``, null checks
============ ============================ ==================================================

>>> FIELDS["clv_tier"].choices
('above_average', 'below_average')
>>> str(profile_schema()["categories_bought"])
'array<string>'
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

import ibis
import ibis.expr.datatypes as dt

__all__ = [
    "CHURN_RISKS",
    "CLV_TIERS",
    "FIELDS",
    "NPS_CLASSES",
    "PROFILE_FIELDS",
    "RFM_SEGMENTS",
    "FieldType",
    "ProfileField",
    "ibis_dtype",
    "nearest_fields",
    "profile_schema",
]

FieldType = Literal["int", "float", "text", "bool", "timestamp", "date", "text_list"]

RFM_SEGMENTS = (
    "champions",
    "loyal",
    "potential_loyalists",
    "new",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cannot_lose",
    "hibernating",
    "lost",
)
CHURN_RISKS = ("low", "medium", "high")
CLV_TIERS = ("above_average", "below_average")
NPS_CLASSES = ("promoter", "passive", "detractor")


@dataclass(frozen=True)
class ProfileField:
    """One column of ``customer_profiles``: its name, logical type, meaning and allowed values."""

    name: str
    type: FieldType
    description: str
    choices: tuple[str, ...] | None = None  # the only values a text field takes (checked in conditions)

    @property
    def numeric(self) -> bool:
        return self.type in ("int", "float")

    @property
    def ordered(self) -> bool:
        """Whether ``< <= > >=`` and ``between`` apply (numbers and times)."""
        return self.type in ("int", "float", "timestamp", "date")


def _f(name: str, type_: FieldType, description: str, choices: tuple[str, ...] | None = None) -> ProfileField:
    return ProfileField(name, type_, description, choices)


PROFILE_FIELDS: tuple[ProfileField, ...] = (
    _f("customer_id", "text", "The customer (the profile's key)."),
    _f("first_order_at", "timestamp", "Time of the first counted order (returned and cancelled ones excluded)."),
    _f("last_order_at", "timestamp", "Time of the last counted order."),
    _f("orders", "int", "Number of counted orders."),
    _f("revenue", "float", "Revenue of the counted orders."),
    _f("aov", "float", "Average order value: revenue / orders (null without orders)."),
    _f("days_since_last_order", "int", "Whole days from the last counted order to the refresh time."),
    _f("historical_clv", "float", "Historical CLV by the founding texts' formula (AOV x orders per year x lifespan)."),
    _f("predicted_purchases_365d", "float", "Expected purchases in the next 365 days (BG/NBD)."),
    _f("predicted_clv_365d", "float", "Discounted expected value of the next 365 days (BG/NBD + Gamma-Gamma)."),
    _f("p_alive", "float", "Probability that the customer is still active (BG/NBD), 0-1."),
    _f("expected_next_order_on", "date", "Expected UTC day of the next order."),
    _f("churn_risk", "text", "Churn-risk tier from P(alive).", CHURN_RISKS),
    _f("rfm_recency", "int", "RFM recency score, 1 (longest ago) to 5 (most recent)."),
    _f("rfm_frequency", "int", "RFM frequency score, 1-5."),
    _f("rfm_monetary", "int", "RFM monetary score, 1-5."),
    _f("rfm_segment", "text", "Named RFM segment of the (recency, frequency) cell.", RFM_SEGMENTS),
    _f("clv_tier", "text", "Historical CLV above or below the average (the founding texts' split).", CLV_TIERS),
    _f("clv_quantile_tier", "int", "Quantile tier of historical CLV, 1 (lowest) to k."),
    _f("last_nps_score", "int", "Score of the last NPS answer, 0-10."),
    _f("last_nps_class", "text", "Class of the last NPS answer.", NPS_CLASSES),
    _f("last_csat_score", "int", "Score of the last CSAT answer, 1-5."),
    _f("open_tickets", "int", "Support tickets open or pending."),
    _f("categories_bought", "text_list", "Product categories of the counted orders' lines."),
    _f("products_registered", "text_list", "Product ids the customer registered."),
    _f("next_maintenance_due_on", "date", "Next service day: registration + the product's interval, rolled forward."),
    _f("warranty_ends_on", "date", "Last warranty day over the registered products."),
    _f("email_consent", "bool", "May receive marketing e-mail."),
    _f("sms_consent", "bool", "May receive marketing SMS / phone messages."),
    _f("acquisition_channel", "text", "Channel that acquired the customer."),
    _f("country", "text", "ISO 3166-1 alpha-2 country code."),
    _f("lookalike_score", "float", "Calibrated probability of entering the top CLV tier, 0-1."),
)

FIELDS: dict[str, ProfileField] = {f.name: f for f in PROFILE_FIELDS}

_DTYPES: dict[FieldType, dt.DataType] = {
    "int": dt.int64,
    "float": dt.float64,
    "text": dt.string,
    "bool": dt.boolean,
    "timestamp": dt.Timestamp(timezone="UTC"),
    "date": dt.date,
    "text_list": dt.Array(dt.string),
}


def ibis_dtype(field: ProfileField) -> dt.DataType:
    """The analytical (Ibis) type of a profile column."""
    return _DTYPES[field.type]


def profile_schema() -> ibis.Schema:
    """The Ibis schema of ``customer_profiles``, in catalogue order."""
    return ibis.schema({f.name: ibis_dtype(f) for f in PROFILE_FIELDS})


def nearest_fields(name: str, n: int = 3) -> list[str]:
    """The catalogue names closest to ``name`` (difflib ratio >= 0.6), best first.

    >>> nearest_fields("clv_teir")
    ['clv_tier']
    """
    return difflib.get_close_matches(name, list(FIELDS), n=n)
