"""When the predictive profile columns can be trusted, and the expected day of the next order.

The predictive columns (predicted purchases and CLV over 365 days, P(alive), expected next order,
churn risk) come from a BG/NBD purchase model and a Gamma-Gamma spend model fitted on the store
(``services.analytical.clv.score_customers``). Below a minimum history they are left NULL, with
the reason in ``predictive_note``:

* at least :data:`MIN_REPEAT_CUSTOMERS` customers who bought on two different days: BG/NBD's
  dropout parameters (a, b) are learnt only from repeat buyers (one-time buyers' likelihood hardly
  depends on them), and Gamma-Gamma is fitted on repeat buyers alone;
* at least :data:`MIN_SPAN_DAYS` days from the first counted order to the refresh: a purchase rate
  and a dropout can only be told apart once the data covers several inter-purchase gaps.

docs/profiles.md gives the reasons for these numbers and compares them with Klaviyo's (500
customers with orders, 180 days). A fit that fails its own checks (``ConvergenceError``) also
leaves the columns NULL, with that reason.

**Expected next order**: the day on which the expected number of orders reaches one at the
customer's predicted 365-day rate, ``ceil(365 / predicted_purchases_365d)`` days after the as-of
day; NULL when that is more than :data:`MAX_NEXT_ORDER_DAYS` away (fewer than 1/3 of an order
expected in the coming year: no order is expected in any useful sense).

>>> history_note(customers=800, repeat_customers=40, span_days=400)
'predictive columns need at least 100 customers who bought on two different days (this store has 40)'
>>> history_note(customers=800, repeat_customers=300, span_days=400) is None
True
>>> next_order_in_days(2.0), next_order_in_days(0.5), next_order_in_days(0.2)
(183, 730, None)
"""

from __future__ import annotations

import math
from datetime import date

import ibis
import ibis.expr.types as ir

__all__ = [
    "HORIZON_DAYS",
    "MAX_NEXT_ORDER_DAYS",
    "MIN_REPEAT_CUSTOMERS",
    "MIN_SPAN_DAYS",
    "NO_ORDERS_NOTE",
    "expected_next_order_on",
    "history_note",
    "next_order_in_days",
]

HORIZON_DAYS = 365
MIN_REPEAT_CUSTOMERS = 100
MIN_SPAN_DAYS = 180
MAX_NEXT_ORDER_DAYS = 3 * HORIZON_DAYS
NO_ORDERS_NOTE = "no counted order before the refresh: nothing to predict from"


def history_note(*, customers: int, repeat_customers: int, span_days: int | None) -> str | None:
    """Why the store's history is too short for the predictive columns, or None when it is enough."""
    reasons = []
    if repeat_customers < MIN_REPEAT_CUSTOMERS:
        reasons.append(
            f"at least {MIN_REPEAT_CUSTOMERS} customers who bought on two different days "
            f"(this store has {repeat_customers})"
        )
    if span_days is None or span_days < MIN_SPAN_DAYS:
        have = "no orders" if span_days is None or customers == 0 else f"{span_days} days"
        reasons.append(f"at least {MIN_SPAN_DAYS} days of order history (this store has {have})")
    return "predictive columns need " + " and ".join(reasons) if reasons else None


def next_order_in_days(predicted_purchases: float) -> int | None:
    """Days from the as-of day to the expected next order, by the rule above (plain Python)."""
    if predicted_purchases * MAX_NEXT_ORDER_DAYS < HORIZON_DAYS:
        return None
    return math.ceil(HORIZON_DAYS / predicted_purchases)


def expected_next_order_on(predicted: ir.FloatingValue, day: date) -> ir.DateValue:
    """:func:`next_order_in_days` after ``day`` as an engine expression (NULL when it is None)."""
    enough = predicted * float(MAX_NEXT_ORDER_DAYS) >= float(HORIZON_DAYS)
    rate = ibis.ifelse(enough, predicted, 1.0)  # never divide by 0 (PostgreSQL raises, even in a CASE arm)
    days = (ibis.literal(float(HORIZON_DAYS)) / rate).ceil().cast("int64")
    when = (ibis.literal(day, type="date") + days.as_interval("D")).cast("date")
    return ibis.ifelse(enough, when, ibis.null("date"))
