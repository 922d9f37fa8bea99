"""Per-customer features as of a cut-off time, as Ibis expressions over the contract tables.

Everything is **point in time**: a feature at cut-off ``at`` reads only rows dated before ``at``, so
the same builder gives the training features (at a past cut-off), the test features and today's.

* **Counted orders at ``at``**: ``ordered_at < at`` and not cancelled or returned *by* ``at``
  (``cancelled_at < at`` / ``returned_at < at``; an order whose status says cancelled or returned
  without saying when is never counted). An order returned after the cut-off still counted then.
* ``orders``, ``revenue``, ``first_order_at``, ``last_order_at`` over the counted orders;
  ``orders_365d`` / ``revenue_365d`` over those in ``[at − 365 days, at)``: the trailing year that
  the historical CLV of ``core/metrics/clv_historical.py`` multiplies by one lifespan for everyone,
  so ranking by ``revenue_365d`` is ranking by historical CLV.
* First order (earliest counted order, ties by ``order_id``): its ``revenue``, sales ``channel`` and
  the ``category`` of its highest-value line (``quantity × unit_price``, ties by ``line_number``).
* ``bought_<k>``: 1 when a counted order holds a line of category ``categories[k]`` (the caller
  picks the categories, e.g. the most frequent ones: :func:`top_categories`).
* ``registrations`` (``registered_at < at``), ``tickets`` (opened before ``at``), ``open_tickets``
  (opened before ``at`` and not resolved before it), ``last_nps_score`` (the last ``overall`` NPS
  answer before ``at``, ties by ``response_id``), ``active_subscription`` (started before ``at``, not
  cancelled before it).
* The population: customers created before ``at`` or holding a counted order before it.

Optional tables (lines, products, registrations, tickets, surveys, subscriptions) may be absent:
their features are then constant (0 or NULL) and say nothing. Days (recency, tenure) are derived
in Python from the two time stamps (:func:`add_days`), exact on every engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir

from aftersales.core.metrics.base import count_if
from aftersales.core.metrics.periods import timestamp_literal

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FeatureTables", "add_days", "customer_features", "population", "restricted", "top_categories"]

YEAR = timedelta(days=365)
_ENDED = ("cancelled", "returned")


@dataclass(frozen=True)
class FeatureTables:
    """The contract tables the features read; only ``customers`` and ``orders`` are required."""

    customers: ir.Table
    orders: ir.Table
    order_lines: ir.Table | None = None
    products: ir.Table | None = None
    product_registrations: ir.Table | None = None
    tickets: ir.Table | None = None
    survey_responses: ir.Table | None = None
    subscriptions: ir.Table | None = None

    @classmethod
    def from_mapping(cls, tables: Mapping[str, ir.Table | None]) -> FeatureTables:
        return cls(**{k: tables.get(k) for k in cls.__dataclass_fields__})


_PER_CUSTOMER = ("customers", "orders", "product_registrations", "tickets", "survey_responses", "subscriptions")


def restricted(tables: FeatureTables, ids: ir.Table) -> FeatureTables:
    """``tables`` with every per-customer table cut to the customers in ``ids`` (a ``customer_id``
    column), by semi-joins: the features of those customers, computed without scanning anyone else's
    rows beyond the join. Order lines follow their orders and products are shared, so both stay whole.
    A customer's features depend only on their own rows, so they equal those of the whole tables."""
    cut = {}
    for name in _PER_CUSTOMER:
        t = getattr(tables, name)
        cut[name] = None if t is None else t.semi_join(ids, t.customer_id == ids.customer_id)
    return FeatureTables(**{**tables.__dict__, **cut})


def population(tables: FeatureTables, at: datetime) -> ir.Table:
    """``customer_id`` of the population at ``at``: customers created before it or holding a counted
    order before it (the rows :func:`customer_features` returns)."""
    t = timestamp_literal(at.astimezone(UTC))
    c = tables.customers
    base = c.filter(c.created_at.notnull() & (c.created_at < t)).select("customer_id")
    buyers = counted_orders_at(tables.orders, at).select("customer_id").distinct()
    return base.union(buyers, distinct=True)


def counted_orders_at(orders: ir.Table, at: datetime) -> ir.Table:
    """Orders that count as purchases at ``at`` (see the module docstring)."""
    t = timestamp_literal(at)
    gone = (orders.cancelled_at.notnull() & (orders.cancelled_at < t)) | (
        orders.returned_at.notnull() & (orders.returned_at < t)
    )
    undated = orders.status.isin(_ENDED) & orders.cancelled_at.isnull() & orders.returned_at.isnull()
    return orders.filter(orders.ordered_at < t, ~gone, ~undated.fill_null(False))


def top_categories(order_lines: ir.Table, products: ir.Table, k: int) -> ir.Table:
    """The ``k`` categories with the most order lines (ties by name): ``category, lines``."""
    j = order_lines.inner_join(products, order_lines.product_id == products.product_id)
    j = j.filter(j.category.notnull())
    counts = j.group_by("category").aggregate(lines=j.count().cast("int64"))
    return counts.order_by([ibis.desc("lines"), "category"]).limit(k)


def _first_rows(t: ir.Table, key: str, order: Sequence[ir.Value]) -> ir.Table:
    """The first row of each ``key`` group by ``order`` (a row_number window: portable to every engine)."""
    rn = ibis.row_number().over(ibis.window(group_by=t[key], order_by=list(order)))
    return t.mutate(_rn=rn).filter(lambda r: r._rn == 0).drop("_rn")


def customer_features(tables: FeatureTables, at: datetime, categories: Sequence[str] = ()) -> ir.Table:
    """One row per customer of the population at ``at`` (see the module docstring for every column)."""
    at = at.astimezone(UTC)
    t = timestamp_literal(at)
    year_start = timestamp_literal(at - YEAR)
    o = counted_orders_at(tables.orders, at)
    in_year = o.ordered_at >= year_start
    agg = o.group_by("customer_id").aggregate(
        orders=o.count().cast("int64"),
        revenue=o.revenue.cast("float64").sum().cast("float64"),
        first_order_at=o.ordered_at.min(),
        last_order_at=o.ordered_at.max(),
        orders_365d=count_if(in_year),
        revenue_365d=ibis.ifelse(in_year, o.revenue.cast("float64"), 0.0).sum().cast("float64"),
    )
    first = _first_rows(o, "customer_id", [o.ordered_at, o.order_id]).select(
        "customer_id",
        first_order_id="order_id",
        first_order_value=o.revenue.cast("float64"),
        first_order_channel="channel",
    )
    c = tables.customers
    base = c.filter(c.created_at.notnull() & (c.created_at < t)).select("customer_id")
    ids = base.union(agg.select("customer_id"), distinct=True)
    out = ids.left_join(c, "customer_id").select(ids.customer_id, c.acquisition_channel, c.country)
    out = _join(out, agg)
    out = _join(out, first)
    out = _join(out, _first_category(tables, first))
    out = _join(out, _categories(tables, o, categories))
    out = _join(out, _per_customer_counts(tables, t))
    out = _join(out, _last_nps(tables, t))
    out = _join(out, _subscription(tables, t))
    return out.drop("first_order_id")


def _join(left: ir.Table, right: ir.Table | None) -> ir.Table:
    if right is None:
        return left
    j = left.left_join(right, "customer_id")
    return j.drop(*[c for c in j.columns if c.endswith("_right")])


def _first_category(tables: FeatureTables, first: ir.Table) -> ir.Table | None:
    lines, products = tables.order_lines, tables.products
    if lines is None or products is None:
        return None
    f = first.select("customer_id", "first_order_id")
    j = f.inner_join(lines, f.first_order_id == lines.order_id)
    j = j.inner_join(products, j.product_id == products.product_id)
    j = j.select(
        "customer_id", "line_number", "category", value=j.quantity.cast("float64") * j.unit_price.cast("float64")
    )
    top = _first_rows(j, "customer_id", [ibis.desc(j.value), j.line_number])
    return top.select("customer_id", first_category="category")


def _categories(tables: FeatureTables, o: ir.Table, categories: Sequence[str]) -> ir.Table | None:
    lines, products = tables.order_lines, tables.products
    if not categories or lines is None or products is None:
        return None
    j = o.select("customer_id", "order_id").inner_join(lines, "order_id")
    j = j.inner_join(products, j.product_id == products.product_id)
    j = j.filter(j.category.isin(list(categories)))
    flags = {f"bought_{k}": ibis.ifelse(j.category == c, 1, 0).max().cast("int64") for k, c in enumerate(categories)}
    return j.group_by("customer_id").aggregate(**flags)


def _per_customer_counts(tables: FeatureTables, t: ir.TimestampScalar) -> ir.Table | None:
    parts: list[ir.Table] = []
    if tables.product_registrations is not None:
        r = tables.product_registrations
        r = r.filter(r.registered_at < t)
        parts.append(r.group_by("customer_id").aggregate(registrations=r.count().cast("int64")))
    if tables.tickets is not None:
        k = tables.tickets
        k = k.filter(k.opened_at < t)
        still_open = k.resolved_at.isnull() | (k.resolved_at >= t)
        parts.append(
            k.group_by("customer_id").aggregate(tickets=k.count().cast("int64"), open_tickets=count_if(still_open))
        )
    if not parts:
        return None
    out = parts[0]
    for p in parts[1:]:
        out = out.outer_join(p, "customer_id")
        out = out.mutate(customer_id=out.customer_id.fill_null(out.customer_id_right)).drop("customer_id_right")
    return out


def _last_nps(tables: FeatureTables, t: ir.TimestampScalar) -> ir.Table | None:
    s = tables.survey_responses
    if s is None:
        return None
    s = s.filter((s.kind == "nps") & (s.dimension == "overall") & s.customer_id.notnull() & (s.responded_at < t))
    last = _first_rows(s, "customer_id", [ibis.desc(s.responded_at), ibis.desc(s.response_id)])
    return last.select("customer_id", last_nps_score=last.score.cast("int64"))


def _subscription(tables: FeatureTables, t: ir.TimestampScalar) -> ir.Table | None:
    s = tables.subscriptions
    if s is None:
        return None
    active = (s.started_at < t) & (s.cancelled_at.isnull() | (s.cancelled_at >= t))
    return s.group_by("customer_id").aggregate(active_subscription=ibis.ifelse(active, 1, 0).max().cast("int64"))


def add_days(frame: pd.DataFrame, at: datetime) -> pd.DataFrame:
    """``days_since_last_order`` and ``tenure_days`` (since the first order), in days, from the time stamps.

    >>> import pandas as pd
    >>> f = pd.DataFrame({"first_order_at": [pd.Timestamp("2024-01-01", tz="UTC")],
    ...                   "last_order_at": [pd.Timestamp("2024-03-01 12:00", tz="UTC")]})
    >>> add_days(f, datetime(2024, 3, 2, tzinfo=UTC))[["days_since_last_order", "tenure_days"]].iloc[0].tolist()
    [0.5, 61.0]
    """
    import pandas as pd

    now = pd.Timestamp(at.astimezone(UTC))
    out = frame.copy()
    out["days_since_last_order"] = (now - pd.to_datetime(out["last_order_at"], utc=True)).dt.total_seconds() / 86400.0
    out["tenure_days"] = (now - pd.to_datetime(out["first_order_at"], utc=True)).dt.total_seconds() / 86400.0
    return out
