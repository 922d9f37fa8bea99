"""The customer profile as one Ibis expression: one row per customer, the catalogue's columns.

:func:`profile_table` joins, onto every row of ``customers``, the per-customer facts of
:mod:`.orders` and :mod:`.aftercare`, the RFM scores and CLV tiers of :mod:`.rfm`, and (when given)
the purchase model's scores, and returns the columns of ``core.segments.fields.PROFILE_FIELDS`` in
catalogue order and types, plus ``predictive_note``. Building it is pure; the engine runs it.

**Historical CLV** (the founding texts' formula, per customer):

    historical_clv = AOV × orders per year × lifespan (years)
                   = (year revenue / year orders) × year orders × lifespan = year revenue × lifespan

where the year is the 365 local days before the as-of day (the day of ``now`` in the reporting
zone), year orders and revenue are the customer's counted orders in it, and the lifespan is the
store's, ``1 / annual churn rate`` (``core.metrics.clv_historical``: the retention metric's churn
over the same year), the same for every customer. So the mean over the customers who ordered in
the year equals the ``historical_clv`` metric. A customer with orders but none in the year has 0;
one without orders, NULL; and every value is NULL when the lifespan is (nobody churned).

**CLV tiers**: ``above_average`` when historical CLV >= its mean over the customers who have one,
else ``below_average`` (the founding texts' split); ``clv_quantile_tier`` is the score of
historical CLV out of :data:`CLV_QUANTILE_TIERS` by :func:`.rfm.score_expr` (ties share a tier).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import ibis
import ibis.expr.types as ir

from aftersales.core.profiles import aftercare, orders
from aftersales.core.profiles.predictive import NO_ORDERS_NOTE, expected_next_order_on
from aftersales.core.profiles.rfm import rfm_segment_expr, score_expr
from aftersales.core.segments.fields import FIELDS, PROFILE_FIELDS, ibis_dtype

__all__ = ["CLV_QUANTILE_TIERS", "NOT_SCORED_NOTE", "ProfileInputs", "profile_table"]

CLV_QUANTILE_TIERS = 5
NOT_SCORED_NOTE = "not scored by the purchase model (no counted order up to its calibration end)"


@dataclass(frozen=True)
class ProfileInputs:
    """The contract tables a profile reads (only ``customers`` is required; a missing table leaves
    its columns NULL)."""

    customers: ir.Table
    orders: ir.Table | None = None
    order_lines: ir.Table | None = None
    products: ir.Table | None = None
    product_registrations: ir.Table | None = None
    tickets: ir.Table | None = None
    survey_responses: ir.Table | None = None


def _attach(base: ir.Table, extra: ir.Table) -> ir.Table:
    """``base`` with the columns of ``extra`` (keyed by customer_id), NULL where it has no row."""
    e = extra.rename(_k="customer_id")
    j = base.left_join(e, base.customer_id == e._k)
    return j.select(*base.columns, *(c for c in e.columns if c != "_k"))


def _ordering_customers(o: ir.Table, year: ir.Table, now: datetime, lifespan: float | None) -> ir.Table:
    """Customers with a counted order: recency, RFM scores, historical CLV and its tiers."""
    s = _attach(o, year)
    now_s = ibis.literal(now.astimezone(UTC).timestamp(), type="float64")
    days = ((now_s - orders.epoch_seconds(s.last_order_at)) / orders.SECONDS_PER_DAY).floor().cast("int64")
    s = s.mutate(days_since_last_order=days)
    if lifespan is None:
        hclv: ir.FloatingValue = ibis.null("float64")
        quantile: ir.IntegerValue = ibis.null("int64")
        mean: ir.FloatingValue = ibis.null("float64")
    else:
        hclv = s.year_revenue.fill_null(0.0) * float(lifespan)
        quantile = score_expr(hclv, k=CLV_QUANTILE_TIERS)
        mean = hclv.mean().over()
    return s.select(
        "customer_id",
        "first_order_at",
        "last_order_at",
        "orders",
        "revenue",
        "days_since_last_order",
        rfm_recency=score_expr(s.days_since_last_order, better="lower"),
        rfm_frequency=score_expr(s.orders),
        rfm_monetary=score_expr(s.revenue),
        historical_clv=hclv,
        clv_quantile_tier=quantile,
        _clv_mean=mean,
    )


def profile_table(
    inputs: ProfileInputs,
    *,
    now: datetime,
    tz: str = "UTC",
    lifespan_years: float | None = None,
    scores: ir.Table | None = None,
    predictive_note: str | None = None,
    lookalike: ir.Table | None = None,
) -> ir.Table:
    """One row per customer of ``inputs.customers`` as of ``now`` (see the module docstring).

    ``lookalike`` (customer_id, lookalike_score: ``services.analytical.lookalike``) fills
    ``lookalike_score``; without it the column is NULL.

    ``lifespan_years`` is the store's (``1 / annual churn``; None: unknown, CLV columns NULL).
    ``scores`` (customer_id, p_alive, expected_purchases, clv, risk_tier over 365 days) fills the
    predictive columns; without it they are NULL and ``predictive_note`` says why.
    """
    c = inputs.customers
    base = c.select("customer_id", "email_consent", "sms_consent", "acquisition_channel", "country")
    if inputs.orders is not None:
        summary = orders.order_summary(inputs.orders, now).drop("repeat")
        year = orders.year_revenue(inputs.orders, now, tz).select("customer_id", "year_revenue")
        base = _attach(base, _ordering_customers(summary, year, now, lifespan_years))
        if inputs.order_lines is not None and inputs.products is not None:
            base = _attach(base, orders.categories_bought(inputs.orders, inputs.order_lines, inputs.products, now))
    if inputs.survey_responses is not None:
        base = _attach(base, aftercare.last_survey_score(inputs.survey_responses, "nps", now, "last_nps_score"))
        base = _attach(base, aftercare.last_survey_score(inputs.survey_responses, "csat", now, "last_csat_score"))
    if inputs.tickets is not None:
        base = _attach(base, aftercare.open_tickets(inputs.tickets, now))
    if inputs.product_registrations is not None:
        base = _attach(base, aftercare.registrations(inputs.product_registrations, inputs.products, now))
    if scores is not None:
        base = _attach(base, scores.select("customer_id", "p_alive", "expected_purchases", "clv", "risk_tier"))
    if lookalike is not None:
        base = _attach(base, lookalike.select("customer_id", "lookalike_score"))
    cols = set(base.columns)

    def col(name: str) -> ir.Value:
        return base[name] if name in cols else ibis.null(ibis_dtype(FIELDS[name]))

    n_orders = col("orders").fill_null(0) if inputs.orders is not None else col("orders")
    hclv = col("historical_clv")
    value: dict[str, ir.Value] = {
        "orders": n_orders,
        "revenue": col("revenue").fill_null(0.0) if inputs.orders is not None else col("revenue"),
        "aov": ibis.ifelse(
            n_orders > 0, col("revenue").cast("float64") / n_orders.cast("float64"), ibis.null("float64")
        ),
        "predicted_purchases_365d": base.expected_purchases if scores is not None else ibis.null("float64"),
        "predicted_clv_365d": base.clv if scores is not None else ibis.null("float64"),
        "churn_risk": base.risk_tier if scores is not None else ibis.null("string"),
        "rfm_segment": rfm_segment_expr(col("rfm_recency"), col("rfm_frequency")),
        "clv_tier": ibis.cases(
            (hclv.isnull(), ibis.null("string")),
            (hclv >= col("_clv_mean"), ibis.literal("above_average")),
            else_=ibis.literal("below_average"),
        ),
        "last_nps_class": aftercare.nps_class(col("last_nps_score")),
        "open_tickets": col("open_tickets").fill_null(0) if inputs.tickets is not None else col("open_tickets"),
        "next_maintenance_due_on": aftercare.day_to_date(col("next_maintenance_day"))
        if "next_maintenance_day" in cols
        else ibis.null("date"),
        "warranty_ends_on": aftercare.day_to_date(col("warranty_end_day"))
        if "warranty_end_day" in cols
        else ibis.null("date"),
        "lookalike_score": col("lookalike_score"),
    }
    if scores is not None:
        value["expected_next_order_on"] = expected_next_order_on(base.expected_purchases, now.astimezone(UTC).date())
        note = ibis.ifelse(
            col("p_alive").isnull(),
            ibis.ifelse(n_orders > 0, ibis.literal(NOT_SCORED_NOTE), ibis.literal(NO_ORDERS_NOTE)),
            ibis.null("string"),
        )
    else:
        note = ibis.literal(predictive_note, type="string") if predictive_note else ibis.null("string")
    out = {f.name: value.get(f.name, col(f.name)).cast(ibis_dtype(f)) for f in PROFILE_FIELDS}
    return base.select(**out, predictive_note=note.cast("string"))
