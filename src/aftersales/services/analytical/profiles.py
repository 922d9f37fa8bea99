"""Build every customer's profile in the analytical engine and store it (``aftersales refresh``).

:func:`build_profiles` runs on any :class:`~aftersales.services.ports.AnalyticalSource` (DuckDB over
the SQLite store or over Parquet, PostgreSQL in place, Spark): it asks the engine three small
questions (the order history's size, the store's lifespan for historical CLV, and, when the history
is long enough, the CLV fit's distinct tuples through ``services.analytical.clv.score_customers``),
then runs the one profile expression of ``core.profiles.profile_table`` and takes the result as
Arrow. Python only touches that result column-wise: text lists sorted and missing ones made empty
(Spark cannot order an aggregate, so sorting is done here for every engine), and the columns cast to
the catalogue's types. :func:`refresh_profiles` then replaces the stored profiles in one transaction.

The predictive columns use the CLV options given (model, spend model, discount, margin, time unit)
with a 365-day horizon and the calibration end at the as-of day: the last local day that has
started before ``now`` (the day before ``now`` when ``now`` is a local midnight).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from aftersales.core.clv.engine import UNIT_DAYS
from aftersales.core.clv.options import ClvOptions
from aftersales.core.errors import ConvergenceError, NotFoundError, ValidationError
from aftersales.core.metrics.clv_historical import historical_clv
from aftersales.core.profiles import orders as order_facts
from aftersales.core.profiles.build import ProfileInputs, profile_table
from aftersales.core.profiles.predictive import HORIZON_DAYS, history_note
from aftersales.core.segments.fields import profile_schema
from aftersales.services.analytical import clv
from aftersales.services.ports import AnalyticalSource, UnitOfWorkFactory

__all__ = [
    "ProfileBuild",
    "ProfileRefresh",
    "RefreshSummary",
    "build_profiles",
    "calibration_day",
    "customer_profile",
    "refresh_profiles",
]

_OPTIONAL = ("orders", "order_lines", "products", "product_registrations", "tickets", "survey_responses")
_LISTS = {"categories_bought": ("orders", "order_lines", "products"), "products_registered": ("product_registrations",)}


@dataclass(frozen=True)
class ProfileBuild:
    """Every customer's profile as of ``now`` (``table``: the catalogue's columns + predictive_note)
    and what went into it."""

    table: pa.Table
    now: datetime
    customers_with_orders: int
    repeat_customers: int
    span_days: int | None
    lifespan_years: float | None
    predictive: bool
    predictive_note: str | None
    fit: dict[str, Any] | None
    timings: dict[str, float] = field(default_factory=dict)
    lookalike_note: str | None = None  # why lookalike_score is NULL (services.analytical.lookalike)
    # The CLV fit behind the predictive columns, on the source's engine while it is open: the refresh
    # scores it again at the stored scores' horizon instead of fitting a second time.
    clv_fit: clv.ClvFitted | None = field(default=None, repr=False, compare=False)

    def summary(self) -> dict[str, Any]:
        """The build's figures without the table (JSON-ready)."""
        return {
            "profiles": self.table.num_rows,
            "now": self.now,
            "customers_with_orders": self.customers_with_orders,
            "repeat_customers": self.repeat_customers,
            "span_days": self.span_days,
            "lifespan_years": self.lifespan_years,
            "predictive": "computed" if self.predictive else "null",
            "predictive_note": self.predictive_note,
            "fit": self.fit,
            "lookalike_note": self.lookalike_note,
            "timings_s": dict(self.timings),
        }


@dataclass(frozen=True)
class ProfileRefresh:
    build: ProfileBuild
    written: int
    refreshed_at: datetime
    write_s: float


def calibration_day(now: datetime, tz: str) -> Any:
    """The last local day (in ``tz``) that has started before ``now``: the CLV fit's calibration end."""
    return (now - timedelta(microseconds=1)).astimezone(ZoneInfo(tz)).date()


def _inputs(source: AnalyticalSource) -> ProfileInputs:
    tables = {name: source.table(name) for name in _OPTIONAL if source.has_table(name)}
    return ProfileInputs(customers=source.table("customers"), **tables)


def _sorted_lists(values: pa.Array, fill: bool) -> pa.Array:
    """Each list's items in ascending order; NULL lists become empty ones when ``fill``."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    values = values.cast(pa.list_(pa.string()))
    flat = pc.list_flatten(values)
    parents = pc.list_parent_indices(values)
    order = pc.sort_indices(pa.table({"p": parents, "v": flat}), sort_keys=[("p", "ascending"), ("v", "ascending")])
    lengths = pc.list_value_length(values).fill_null(0).to_numpy(zero_copy_only=False)
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32))
    mask = None if fill else values.is_null()
    return pa.ListArray.from_arrays(offsets, flat.take(order), mask=mask)


def _normalised(table: pa.Table, present: set[str]) -> pa.Table:
    schema = profile_schema().to_pyarrow().append(pa.field("predictive_note", pa.string()))
    cols = []
    for f in schema:
        col = table.column(f.name)
        if f.name in _LISTS:
            col = _sorted_lists(col, fill=all(t in present for t in _LISTS[f.name]))
        cols.append(col.cast(f.type))
    return pa.Table.from_arrays(cols, schema=schema)


def build_profiles(
    source: AnalyticalSource, now: datetime, *, options: ClvOptions | None = None, tz: str = "UTC"
) -> ProfileBuild:
    """Every customer of ``source``'s ``customers`` profiled as of ``now`` (zone-aware); see the module."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValidationError("now must carry a time zone")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    inputs = _inputs(source)
    history = {"customers": 0, "repeat_customers": 0, "span_days": None}
    lifespan: float | None = None
    if inputs.orders is not None:
        [history] = source.execute(order_facts.history(order_facts.order_summary(inputs.orders, now), now))
        year = historical_clv(inputs.orders, as_of=order_facts.as_of_day(now, tz), tz=tz)
        [row] = source.execute(year.select("lifespan_years")) or [{"lifespan_years": None}]
        lifespan = row["lifespan_years"]
    timings["history_s"] = time.perf_counter() - started
    note = history_note(
        customers=int(history["customers"] or 0),
        repeat_customers=int(history["repeat_customers"] or 0),
        span_days=history["span_days"],
    )
    scores, fit, fitted = None, None, None
    if note is None:
        t0 = time.perf_counter()
        opt = options or ClvOptions()
        opt = replace(opt, horizon=HORIZON_DAYS / UNIT_DAYS[opt.unit], calibration_end=calibration_day(now, tz))
        try:
            fitted = clv.fit_customers(source, opt, tz=tz)
            scored = clv.score_fitted(source, fitted, opt)
        except (ConvergenceError, ValidationError) as exc:
            note = f"the purchase model could not be fitted on this store: {str(exc).splitlines()[0]}"
        else:
            scores = scored.table
            fit = {
                "model": opt.model,
                "params": {k: float(v) for k, v in scored.prediction.fit.model.params_.items()},
                "calibration_end": opt.calibration_end,
                "n_customers": scored.prediction.n_customers,
            }
        timings["clv_fit_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    lookalike, lookalike_note = _lookalike(source, now)
    timings["lookalike_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    expr = profile_table(
        inputs, now=now, tz=tz, lifespan_years=lifespan, scores=scores, predictive_note=note, lookalike=lookalike
    )
    table = _normalised(source.to_arrow(expr), {n for n in _OPTIONAL if source.has_table(n)})
    timings["profiles_s"] = time.perf_counter() - t0
    return ProfileBuild(
        table=table,
        now=now,
        customers_with_orders=int(history["customers"] or 0),
        repeat_customers=int(history["repeat_customers"] or 0),
        span_days=None if history["span_days"] is None else int(history["span_days"]),
        lifespan_years=None if lifespan is None else float(lifespan),
        predictive=scores is not None,
        predictive_note=note,
        fit=fit,
        timings=timings,
        lookalike_note=lookalike_note,
        clv_fit=fitted,
    )


def _lookalike(source: AnalyticalSource, now: datetime) -> tuple[Any, str | None]:
    """Lookalike scores (``services.analytical.lookalike``) as a table on the engine, or None and why."""
    from uuid import uuid4

    from aftersales.services.analytical.lookalike import lookalike_scores

    if not source.has_table("orders"):
        return None, "the source has no orders table"
    try:
        scores = lookalike_scores(source, now)
    except ValidationError as exc:
        return None, str(exc)
    return source.register(f"_lookalike_{uuid4().hex}", scores), None


def refresh_profiles(
    uow: UnitOfWorkFactory,
    source: AnalyticalSource,
    now: datetime,
    *,
    refreshed_at: datetime,
    options: ClvOptions | None = None,
    tz: str = "UTC",
) -> ProfileRefresh:
    """:func:`build_profiles`, then replace the stored profiles with them in one transaction."""
    build = build_profiles(source, now, options=options, tz=tz)
    t0 = time.perf_counter()
    with uow() as u:
        written = u.profiles.replace_all(build.table, refreshed_at)
    return ProfileRefresh(build, written, refreshed_at, time.perf_counter() - t0)


@dataclass(frozen=True)
class RefreshSummary:
    """What ``aftersales refresh`` did: the profiles, the stored CLV scores (``services.scores``), the
    segment memberships (the segments service's result, None when it did not run) and the timings."""

    profiles: ProfileRefresh
    scores: Any
    memberships: Any | None
    timings: dict[str, float] = field(default_factory=dict)
    scores_note: str | None = None  # why no scores were stored (scores is None then)

    def as_dict(self) -> dict[str, Any]:
        build = self.profiles.build.summary()
        return {
            "profiles_written": self.profiles.written,
            "refreshed_at": self.profiles.refreshed_at,
            **{k: v for k, v in build.items() if k not in ("profiles", "timings_s")},
            "scores": self.scores.as_dict() if self.scores is not None else None,
            "scores_note": self.scores_note,
            "segments": _memberships(self.memberships),
            "timings_s": {**build["timings_s"], "write_s": self.profiles.write_s, **self.timings},
        }


def _memberships(result: Any | None) -> Any:
    if result is None:
        return None
    if hasattr(result, "as_dict"):
        return result.as_dict()
    segments = getattr(result, "segments", [])
    return {"refreshed": len(segments), "skipped": dict(getattr(result, "skipped", {}))}


def customer_profile(uow: UnitOfWorkFactory, customer_id: str) -> dict[str, Any]:
    """One customer's stored profile (``NotFoundError`` when the last refresh wrote none for them)."""
    with uow() as u:
        row = u.profiles.get(customer_id)
    if row is None:
        raise NotFoundError(f"no profile for customer {customer_id!r} (profiles are written by `aftersales refresh`)")
    return row
