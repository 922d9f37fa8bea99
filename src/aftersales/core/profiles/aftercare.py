"""Per-customer after-sale facts as of ``now``: last NPS and CSAT answers, open tickets, registered
products, the next maintenance day and the warranty's last day.

Everything is read strictly before ``now``. Days are UTC calendar days (the catalogue's ``date``
fields), computed from epoch seconds, so every engine agrees:

* **next maintenance** of one registration of a product with a service interval of ``i`` days,
  registered at ``r``: the first ``r + k·i days`` (k = 1, 2, ...) strictly after ``now``, that is
  ``k = floor((now − r) / i) + 1`` — an overdue service rolls forward to the next one instead of
  staying in the past. The customer's is the earliest over their registrations.
* **warranty end** of one registration: the warranty of ``w`` days starts on the purchase day
  (``purchased_at``, else the registration day), which is day 1, so its last day is
  ``start day + w − 1``; a product with ``w = 0`` (or none) has no warranty. The customer's is
  the latest over their registrations, in the past or not (``warranty_ends_on < now`` is a segment).

>>> next_service_day(registered=0.0, interval_days=90, now=200 * 86400.0)  # due on days 90, 180, 270
270
>>> next_service_day(registered=0.0, interval_days=90, now=180 * 86400.0)  # exactly due now: the next one
270
"""

from __future__ import annotations

import math
from datetime import date, datetime

import ibis
import ibis.expr.types as ir

from aftersales.core.metrics.periods import timestamp_literal
from aftersales.core.profiles.orders import SECONDS_PER_DAY, epoch_seconds, utc_day_number

__all__ = [
    "EPOCH",
    "day_to_date",
    "last_survey_score",
    "next_service_day",
    "nps_class",
    "open_tickets",
    "registrations",
]

EPOCH = date(1970, 1, 1)
OPEN_STATUSES = ("open", "pending")


def next_service_day(*, registered: float, interval_days: int, now: float) -> int:
    """The UTC day number of the next service after ``now`` (epoch seconds), by the rule above."""
    step = interval_days * SECONDS_PER_DAY
    k = math.floor((now - registered) / step) + 1
    return math.floor((registered + k * step) / SECONDS_PER_DAY)


def day_to_date(day: ir.IntegerValue) -> ir.DateValue:
    """The date of a UTC day number (1970-01-01 + ``day`` days; a date plus an interval, which
    DuckDB, PostgreSQL and Spark all compute, unlike a timestamp from epoch seconds)."""
    return (ibis.literal(EPOCH, type="date") + day.as_interval("D")).cast("date")


def nps_class(score: ir.IntegerValue) -> ir.StringValue:
    """Promoter (9-10), passive (7-8) or detractor (0-6), as ``metrics.surveys`` counts them."""
    return ibis.cases(
        (score >= 9, ibis.literal("promoter")),
        (score >= 7, ibis.literal("passive")),
        (score.notnull(), ibis.literal("detractor")),
        else_=ibis.null("string"),
    )


def last_survey_score(responses: ir.Table, kind: str, now: datetime, name: str) -> ir.Table:
    """``customer_id, <name>``: the score of the customer's last ``kind`` answer (dimension
    'overall') before ``now``; of two answers at the same instant, the greater response_id."""
    r = responses.filter(
        (responses.kind == kind)
        & (responses.dimension == "overall")
        & responses.customer_id.notnull()
        & (responses.responded_at < timestamp_literal(now))
    )
    w = ibis.window(group_by=r.customer_id, order_by=[r.responded_at.desc(), r.response_id.desc()])
    ranked = r.select("customer_id", score=r.score.cast("int64"), _n=ibis.row_number().over(w))
    return ranked.filter(ranked._n == 0).select("customer_id", **{name: ranked.score})


def open_tickets(tickets: ir.Table, now: datetime) -> ir.Table:
    """``customer_id, open_tickets``: tickets opened before ``now`` whose status is open or pending."""
    t = tickets.filter(tickets.status.isin(OPEN_STATUSES) & (tickets.opened_at < timestamp_literal(now)))
    return t.group_by("customer_id").aggregate(open_tickets=t.count().cast("int64"))


def registrations(registrations: ir.Table, products: ir.Table | None, now: datetime) -> ir.Table:
    """``customer_id, products_registered`` (distinct product ids, unordered), ``next_maintenance_day``
    and ``warranty_end_day`` (UTC day numbers, NULL when no registered product has an interval or a
    warranty) from the registrations before ``now``."""
    now_s = ibis.literal(now.timestamp(), type="float64")
    r = registrations.filter(registrations.registered_at < timestamp_literal(now))
    if products is None:
        r = r.mutate(_interval=ibis.null("int64"), _warranty=ibis.null("int64"))
    else:
        p = products.select(_pid="product_id", _interval="service_interval_days", _warranty="warranty_days")
        r = r.left_join(p, r.product_id == p._pid)
    reg_s = epoch_seconds(r.registered_at)
    step = r._interval.cast("float64") * SECONDS_PER_DAY
    k = ((now_s - reg_s) / step).floor().cast("float64") + 1.0
    due = ibis.ifelse(r._interval > 0, utc_day_number(reg_s + k * step), ibis.null("int64"))
    start = utc_day_number(epoch_seconds(r.purchased_at.fill_null(r.registered_at)))
    warranty_end = ibis.ifelse(r._warranty > 0, start + r._warranty.cast("int64") - 1, ibis.null("int64"))
    rows = r.select("customer_id", "product_id", due=due, warranty_end=warranty_end)
    facts = rows.group_by("customer_id").aggregate(
        next_maintenance_day=rows.due.min(), warranty_end_day=rows.warranty_end.max()
    )
    pairs = rows.select("customer_id", "product_id").distinct()
    owned = pairs.group_by("customer_id").aggregate(products_registered=pairs.product_id.collect())
    j = facts.inner_join(owned, "customer_id")
    return j.select(facts.customer_id, owned.products_registered, facts.next_maintenance_day, facts.warranty_end_day)
