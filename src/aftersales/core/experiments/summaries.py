"""Ibis builders: summary statistics per variant from per-customer outcomes, computed in the engine.

The analysis needs only sums, so the engine (DuckDB, PostgreSQL, Spark) reduces millions of
customers to one row per metric × slice × variant::

    n = count, sum = Σy, sum_squares = Σy², pre_sum = Σx, pre_sum_squares = Σx², cross_sum = Σxy,
    denominator_sum = Σd, denominator_sum_squares = Σd², denominator_cross_sum = Σyd

Rows whose outcome (or denominator) is null are not units of that metric; a null covariate counts
as 0 (a customer with no pre-period activity). Boolean outcomes become 0/1 ``proportion`` metrics.
Every value is cast to float64 before it is summed (PostgreSQL returns ``SUM(bigint)`` as NUMERIC,
and divides integers; see the engine facts in DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from aftersales.core.errors import MissingColumnError, ValidationError
from aftersales.core.experiments.table import STAT_COLUMNS

__all__ = ["MetricSpec", "outcome_metrics", "summary_statistics"]

_FLOAT_OUT = STAT_COLUMNS[1:]  # every statistic but n is a float sum


@dataclass(frozen=True)
class MetricSpec:
    """One metric over the per-customer table: its outcome column, kind, covariate and denominator."""

    column: str
    kind: str | None = None
    covariate: str | None = None
    denominator: str | None = None


def _float(table: ir.Table, column: str) -> ir.FloatingValue:
    col = table[column]
    if col.type().is_boolean():
        return ibis.ifelse(col, 1.0, 0.0)
    return col.cast("float64")


def outcome_metrics(
    table: ir.Table, *, variant: str = "variant", exclude: Sequence[str] = ("customer_id",)
) -> dict[str, MetricSpec]:
    """Metric specs inferred from a per-customer table's columns.

    Every numeric or boolean column other than ``variant`` and ``exclude`` is a metric; a column
    ``pre_<name>`` is the CUPED covariate of ``<name>`` (not a metric itself); booleans are proportions.
    """
    schema = table.schema()
    names = [
        c
        for c, t in schema.items()
        if c != variant and c not in exclude and (t.is_numeric() or t.is_boolean()) and not c.startswith("pre_")
    ]
    return {
        c: MetricSpec(
            column=c,
            kind="proportion" if schema[c].is_boolean() else "mean",
            covariate=f"pre_{c}" if f"pre_{c}" in schema else None,
        )
        for c in names
    }


def summary_statistics(
    table: ir.Table,
    metrics: Mapping[str, MetricSpec] | Sequence[str],
    *,
    variant: str = "variant",
    by: Sequence[str] = (),
) -> ir.Table:
    """An expression with one row per metric × ``by`` × variant and the columns of :mod:`.table`.

    >>> t = ibis.memtable({"variant": ["a", "a", "b"], "revenue": [1.0, 3.0, 5.0]})
    >>> df = summary_statistics(t, ["revenue"]).to_pandas().sort_values("variant")
    >>> df[["variant", "n", "sum", "sum_squares"]].values.tolist()
    [['a', 2, 4.0, 10.0], ['b', 1, 5.0, 25.0]]
    """
    specs = {m: MetricSpec(m) for m in metrics} if not isinstance(metrics, Mapping) else dict(metrics)
    if not specs:
        raise ValidationError("no metric to summarise")
    columns = set(table.columns)
    for name, spec in specs.items():
        for c in (variant, *by, spec.column, spec.covariate, spec.denominator):
            if c is not None and c not in columns:
                raise MissingColumnError(f"metric {name!r}: the outcome table has no column {c!r}")
    null = ibis.null().cast("float64")
    parts = []
    for name, spec in specs.items():
        kind = spec.kind or (
            "ratio" if spec.denominator else "proportion" if table[spec.column].type().is_boolean() else "mean"
        )
        t = table.filter(table[spec.column].notnull())
        if spec.denominator:
            t = t.filter(t[spec.denominator].notnull())
        y = _float(t, spec.column)
        x = _float(t, spec.covariate).fill_null(0.0) if spec.covariate else None
        d = _float(t, spec.denominator) if spec.denominator else None
        agg = t.group_by([t[variant].cast("string").name("variant"), *by]).aggregate(
            n=t.count().cast("int64"),
            sum=y.sum(),
            sum_squares=(y * y).sum(),
            pre_sum=x.sum() if x is not None else null,
            pre_sum_squares=(x * x).sum() if x is not None else null,
            cross_sum=(x * y).sum() if x is not None else null,
            denominator_sum=d.sum() if d is not None else null,
            denominator_sum_squares=(d * d).sum() if d is not None else null,
            denominator_cross_sum=(y * d).sum() if d is not None else null,
        )
        agg = agg.mutate(
            metric=ibis.literal(name), kind=ibis.literal(kind), **{c: agg[c].cast("float64") for c in _FLOAT_OUT}
        )
        parts.append(agg.select("metric", *by, "variant", "kind", "n", *_FLOAT_OUT))
    return ibis.union(*parts) if len(parts) > 1 else parts[0]
