"""Every metric by name: the tables it needs and how to build it. The scorecard is the headline subset.

Entry points and services look metrics up here, so a new metric is one entry, and a source
missing a table can be reported per metric (the others still run).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir

from aftersales.core.errors import FieldError, ValidationError
from aftersales.core.metrics import clv_historical, cohorts, funnel, mrr, profitability, retention, revenue, surveys
from aftersales.core.metrics.base import OrderOptions
from aftersales.core.metrics.periods import Periods

__all__ = ["METRICS", "MONEY_METRICS", "SCORECARD", "Context", "MetricSpec", "Stage", "get_metric"]


@dataclass(frozen=True)
class Context:
    """Everything a metric needs besides its tables (time comes in here: core never reads the clock)."""

    periods: Periods
    as_of: date
    tz: str = "UTC"
    by: str | None = None
    window_days: int = 365
    include_returns: bool = False


Tables = Mapping[str, ir.Table]


@dataclass(frozen=True)
class Stage:
    """An intermediate table several metrics read (``key`` names it): built once per run, then finished."""

    key: str
    build: Callable[[Tables, Context], ir.Table]


@dataclass(frozen=True)
class MetricSpec:
    """A metric: the tables it needs and its expression, ``build(tables, context)``.

    A metric with a ``stage`` is ``finish(stage.build(tables, context), context)``; a service
    computing several metrics of one stage may materialise the stage once and finish each from it.
    ``covers`` says which span a record's numbers come from, so a report can tell whether it is
    complete: its ``period`` (the default), the period ``age`` periods after its ``period`` (a
    cohort cell), the year before the as-of date, or all the periods asked for.
    """

    name: str
    needs: tuple[str, ...]
    build: Callable[[Tables, Context], ir.Table]
    description: str
    stage: Stage | None = None
    finish: Callable[[ir.Table, Context], ir.Table] | None = None
    covers: Literal["period", "cohort_age", "year_before_as_of", "all_periods"] = "period"


def _staged(
    name: str, needs: tuple[str, ...], stage: Stage, finish: Callable[[ir.Table, Context], ir.Table], description: str
) -> MetricSpec:
    return MetricSpec(name, needs, lambda t, c: finish(stage.build(t, c), c), description, stage, finish)


def _orders_kw(t: Tables, c: Context) -> OrderOptions:
    return {"customers": t.get("customers"), "by": c.by, "include_returns": c.include_returns}


def _contractual_churn(t: Tables, c: Context) -> ir.Table:
    subs = t["subscriptions"]
    active = retention.active_customers(c.periods, subscriptions=subs, customers=t.get("customers"), by=c.by)
    out = retention.rates_from_parts(retention.retention_parts(active, c.periods), c.periods, "churn_rate")
    return out.mutate(metric=ibis.literal("contractual_churn_rate"))


_RETENTION = Stage(
    "retention",
    lambda t, c: retention.retention_parts(
        retention.active_customers(c.periods, orders=t["orders"], window_days=c.window_days, **_orders_kw(t, c)),
        c.periods,
    ),
)


def _retention_metric(name: str, description: str) -> MetricSpec:
    def finish(parts: ir.Table, c: Context) -> ir.Table:
        return retention.rates_from_parts(parts, c.periods, name)

    return _staged(name, ("orders",), _RETENTION, finish, description)


_ACTIVITY = Stage("activity", lambda t, c: revenue.shared_activity(t["orders"], c.periods, **_orders_kw(t, c)))


def _activity_metric(name: str, description: str) -> MetricSpec:
    return _staged(name, ("orders",), _ACTIVITY, lambda act, c: revenue.FROM_ACTIVITY[name](act), description)


def _per_period(fn: Callable[..., ir.Table]) -> Callable[[Tables, Context], ir.Table]:
    return lambda t, c: fn(t["orders"], c.periods, **_orders_kw(t, c))


def _mrr(fn: Callable[..., ir.Table]) -> Callable[[Tables, Context], ir.Table]:
    return lambda t, c: fn(t["subscriptions"], t["subscription_mrr"], c.periods, customers=t.get("customers"), by=c.by)


def _survey(fn: Callable[..., ir.Table]) -> Callable[[Tables, Context], ir.Table]:
    return lambda t, c: fn(t["survey_responses"], c.periods, customers=t.get("customers"), by=c.by)


def _clv(t: Tables, c: Context) -> ir.Table:
    return clv_historical.historical_clv(
        t["orders"], as_of=c.as_of, tz=c.tz, window_days=c.window_days, **_orders_kw(t, c)
    )


def _profitability(t: Tables, c: Context) -> ir.Table:
    start = c.periods.labels[0]
    end = c.periods.bounds[-1].astimezone(ZoneInfo(c.tz)).date()
    per = profitability.customer_profitability(
        t["orders"], start=start, end=end, tz=c.tz, costs=t.get("costs"), customers=t.get("customers")
    )
    s = profitability.profitability_summary(per)
    return s.select(
        metric=ibis.literal("customer_profitability"),
        period=ibis.literal(start, type="date"),
        segment=ibis.null("string"),
        value=s.mean_profit,
        **{k: s[k] for k in s.columns},
    )


_SPECS = (
    _retention_metric("retention_rate", "Customer retention rate %"),
    _retention_metric("churn_rate", "Customer churn rate %"),
    MetricSpec(
        "contractual_churn_rate",
        ("subscriptions",),
        _contractual_churn,
        "Churn rate % from subscription cancellations",
    ),
    MetricSpec("mrr_movements", ("subscriptions", "subscription_mrr"), _mrr(mrr.mrr_movements), "Ending MRR"),
    MetricSpec("mrr_churn", ("subscriptions", "subscription_mrr"), _mrr(mrr.mrr_churn), "Gross MRR churn %"),
    MetricSpec("net_mrr_churn", ("subscriptions", "subscription_mrr"), _mrr(mrr.net_mrr_churn), "Net MRR churn %"),
    _activity_metric("revenue_growth_existing", "Revenue growth % from existing customers"),
    _activity_metric("repeat_purchase_ratio", "Repeat purchase ratio %"),
    _activity_metric("returning_customer_rate", "Returning customer rate %"),
    _activity_metric("purchase_frequency", "Orders per customer"),
    _activity_metric("average_order_value", "Average order value"),
    MetricSpec("historical_clv", ("orders",), _clv, "Historical CLV (year before as-of)", covers="year_before_as_of"),
    MetricSpec("nps", ("survey_responses",), _survey(surveys.net_promoter_score), "Net Promoter Score"),
    MetricSpec("csat", ("survey_responses",), _survey(surveys.customer_satisfaction), "CSAT %"),
    MetricSpec("ces", ("survey_responses",), _survey(surveys.customer_effort_score), "Customer effort score"),
    MetricSpec(
        "checkout_dropout_rate",
        ("events",),
        lambda t, c: funnel.checkout_dropout_rate(t["events"], c.periods, customers=t.get("customers"), by=c.by),
        "Checkout dropout rate %",
    ),
    MetricSpec(
        "adoption_rate",
        ("product_registrations", "events"),
        lambda t, c: funnel.adoption_rate(
            t["product_registrations"], t["events"], c.periods, customers=t.get("customers"), by=c.by
        ),
        "Registered products activated within 30 days %",
    ),
    MetricSpec(
        "cohort_retention",
        ("orders",),
        _per_period(cohorts.cohort_matrix),
        "Cohort retention matrix",
        covers="cohort_age",
    ),
    MetricSpec(
        "customer_profitability",
        ("orders",),
        _profitability,
        "Customer profitability (mean profit per customer)",
        covers="all_periods",
    ),
)

METRICS: dict[str, MetricSpec] = {s.name: s for s in _SPECS}

#: Metrics whose ``value`` is an amount of money: entry points show it with cents and round it to cents
#: (the CLI derives its money columns from this and the contract's ``money`` columns).
MONEY_METRICS: frozenset[str] = frozenset(
    {"average_order_value", "historical_clv", "mrr_movements", "customer_profitability"}
)

SCORECARD: tuple[str, ...] = (
    "retention_rate",
    "churn_rate",
    "repeat_purchase_ratio",
    "returning_customer_rate",
    "purchase_frequency",
    "average_order_value",
    "revenue_growth_existing",
    "historical_clv",
    "mrr_churn",
    "net_mrr_churn",
    "nps",
    "csat",
    "ces",
    "checkout_dropout_rate",
    "adoption_rate",
)


def get_metric(name: str) -> MetricSpec:
    """The metric ``name``; a :class:`ValidationError` lists the known ones."""
    try:
        return METRICS[name]
    except KeyError:
        text = f"unknown metric {name!r}; known: {', '.join(METRICS)}"
        raise ValidationError(text, [FieldError(("name",), text)]) from None
