"""Compile a segment AST to an Ibis boolean expression over ``customer_profiles`` and the behaviour tables.

Building the expression is pure (no engine is touched, no clock is read: ``now`` is an argument);
the engine adapter executes it, so one definition runs on DuckDB, PostgreSQL or Spark.

**Two-valued logic.** Each leaf is true or false, never NULL: a test on a missing (null) value is
false (``churn_risk != 'high'`` leaves out customers without a churn risk, as does ``not in``), and
``not`` flips true and false (``not churn_risk = 'high'`` keeps them). SQL's three-valued NULL
would otherwise make ``not`` drop rows silently.

**Behaviour** (tables and columns of the data contract, ``core/contract.py``):

* ``ordered(category, product, within, at_least)``: counted orders (``metrics.base.counted_orders``:
  returned and cancelled ones left out) with ``now - within < ordered_at <= now`` (``ordered_at <= now``
  without ``within``), restricted to orders holding an ``order_lines`` row of ``product`` / of a
  ``products`` row of ``category``; the customer needs ``at_least`` distinct such orders;
* ``no_order_for(d)`` is ``not ordered(within = d)``: no counted order in ``(now - d, now]``; it also holds
  for customers who never ordered (add ``orders >= 1`` for lapsed buyers only);
* ``event(name, within, at_least)``: ``events`` rows of that ``name`` with ``now - within < occurred_at <= now``;
  anonymous events (no ``customer_id``) never count;
* ``owns(product)``: a ``product_registrations`` row of the product with ``registered_at <= now``.

Each becomes ``customer_id IN (subquery)`` (a semi-join on every engine); the subqueries never hold
NULL ids, so ``NOT IN`` is safe.

Time literals: ``now ± d`` is ``now`` shifted; on a date field it is that instant's UTC day, and a
date compared with a timestamp field is midnight UTC of that day.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import reduce
from typing import Any

import ibis
import ibis.expr.types as ir

from aftersales.core.errors import ContractError, MissingColumnError, MissingTableError, ValidationError
from aftersales.core.metrics.base import counted_orders
from aftersales.core.metrics.periods import timestamp_literal
from aftersales.core.segments.ast import (
    And,
    Behaviour,
    Between,
    BoolField,
    Compare,
    Condition,
    Contains,
    Duration,
    EventOccurred,
    InList,
    IsNull,
    NoOrderFor,
    Not,
    Now,
    Or,
    Ordered,
    Owns,
    Value,
)
from aftersales.core.segments.check import validate
from aftersales.core.segments.fields import FIELDS, ProfileField
from aftersales.core.segments.text import to_text

__all__ = ["BehaviourTables", "compile_condition", "members", "required_tables"]

_OPS: dict[str, Callable[[Any, Any], ir.BooleanValue]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class BehaviourTables:
    """The behaviour tables a segment may read (contract column names); only those its conditions use are needed."""

    orders: ir.Table | None = None
    order_lines: ir.Table | None = None
    products: ir.Table | None = None
    events: ir.Table | None = None
    product_registrations: ir.Table | None = None


def _tables_of(node: Behaviour) -> tuple[str, ...]:
    if isinstance(node, Ordered):
        lines = ("order_lines",) if node.product is not None or node.category is not None else ()
        return ("orders", *lines, *(("products",) if node.category is not None else ()))
    if isinstance(node, NoOrderFor):
        return ("orders",)
    if isinstance(node, EventOccurred):
        return ("events",)
    return ("product_registrations",)


def _walk(node: Condition) -> list[Condition]:
    if isinstance(node, And | Or):
        return [node, *(n for i in node.items for n in _walk(i))]
    if isinstance(node, Not):
        return [node, *_walk(node.item)]
    return [node]


def required_tables(node: Condition) -> tuple[str, ...]:
    """The behaviour tables ``node`` reads, in first-use order (so a service loads only those).

    >>> from aftersales.core.segments.text import parse
    >>> required_tables(parse("owns('P1') or ordered(category = 'bikes')"))
    ('product_registrations', 'orders', 'order_lines', 'products')
    """
    names: dict[str, None] = {}
    for n in _walk(node):
        if isinstance(n, Ordered | NoOrderFor | EventOccurred | Owns):
            names.update(dict.fromkeys(_tables_of(n)))
    return tuple(names)


class _Compiler:
    def __init__(self, profiles: ir.Table, behaviour: BehaviourTables, now: datetime) -> None:
        self.profiles = profiles
        self.behaviour = behaviour
        self.now = now

    def column(self, field: ProfileField) -> ir.Column:
        if field.name not in self.profiles.columns:
            raise MissingColumnError(f"the profile table has no column {field.name!r}")
        col = self.profiles[field.name]
        if field.type == "text_list" and not col.type().is_array():
            raise ContractError(f"profile column {field.name!r} must be a list of text, not {col.type()}")
        return col

    def literal(self, field: ProfileField, value: Value) -> ir.Value:
        if isinstance(value, Now):
            value = self.now + timedelta(seconds=value.offset_seconds)
            if field.type == "date":
                return ibis.literal(value.date(), type="date")
        if isinstance(value, datetime):
            return timestamp_literal(value)
        if isinstance(value, date):
            if field.type == "timestamp":
                return timestamp_literal(datetime.combine(value, time(), UTC))
            return ibis.literal(value, type="date")
        if isinstance(value, bool):
            return ibis.literal(value, type="boolean")
        if isinstance(value, str):
            return ibis.literal(value, type="string")
        return ibis.literal(value, type="int64" if isinstance(value, int) else "float64")

    def leaf(self, node: Condition) -> ir.BooleanValue:
        if isinstance(node, Ordered | NoOrderFor | EventOccurred | Owns):
            return self.behaviour_test(node)
        assert isinstance(node, Compare | InList | IsNull | Between | Contains | BoolField)
        field = FIELDS[node.field]
        col = self.column(field)
        expr: ir.BooleanValue
        if isinstance(node, Compare):
            expr = _OPS[node.op](col, self.literal(field, node.value))
        elif isinstance(node, InList):
            expr = col.isin([self.literal(field, v) for v in node.values])
            expr = ~expr if node.negated else expr
        elif isinstance(node, Between):
            expr = col.between(self.literal(field, node.low), self.literal(field, node.high))
            expr = ~expr if node.negated else expr
        elif isinstance(node, IsNull):
            return col.notnull() if node.negated else col.isnull()
        elif isinstance(node, Contains):
            expr = col.contains(ibis.literal(node.value, type="string"))
        else:
            expr = col
        return expr.fill_null(False)

    def compile(self, node: Condition) -> ir.BooleanValue:
        if isinstance(node, And):
            return reduce(operator.and_, (self.compile(i) for i in node.items))
        if isinstance(node, Or):
            return reduce(operator.or_, (self.compile(i) for i in node.items))
        if isinstance(node, Not):
            return ~self.compile(node.item)
        return self.leaf(node)

    # -- behaviour -------------------------------------------------------------------------------
    def table(self, name: str, node: Behaviour) -> ir.Table:
        table: ir.Table | None = getattr(self.behaviour, name)
        if table is None:
            raise MissingTableError(f"{to_text(node)} needs the {name} table, which was not given")
        return table

    def window(self, at: ir.TimestampColumn, within: Duration | None) -> ir.BooleanValue:
        upto = at <= timestamp_literal(self.now)
        if within is None:
            return upto
        return upto & (at > timestamp_literal(self.now - timedelta(seconds=within.seconds)))

    def ordered_ids(self, node: Ordered) -> ir.Column:
        orders = counted_orders(self.table("orders", node))
        orders = orders.filter(self.window(orders.ordered_at, node.within))
        if node.product is not None or node.category is not None:
            lines = self.table("order_lines", node)
            if node.product is not None:
                lines = lines.filter(lines.product_id == node.product)
            if node.category is not None:
                products = self.table("products", node)
                in_category = products.filter(products.category == node.category).product_id
                lines = lines.filter(lines.product_id.isin(in_category))
            orders = orders.filter(orders.order_id.isin(lines.order_id))
        return _at_least(orders, orders.order_id, node.at_least)

    def behaviour_test(self, node: Behaviour) -> ir.BooleanValue:
        ids: ir.Column
        if isinstance(node, Ordered):
            ids = self.ordered_ids(node)
        elif isinstance(node, NoOrderFor):
            ids = self.ordered_ids(Ordered(within=node.duration))
            return ~self.profiles.customer_id.isin(ids).fill_null(False)
        elif isinstance(node, EventOccurred):
            events = self.table("events", node)
            named = (events["name"] == node.name) & events.customer_id.notnull()
            events = events.filter(named & self.window(events.occurred_at, node.within))
            ids = _at_least(events, events.event_id, node.at_least)
        else:
            regs = self.table("product_registrations", node)
            ids = regs.filter((regs.product_id == node.product) & (regs.registered_at <= timestamp_literal(self.now)))
            ids = ids.customer_id
        return self.profiles.customer_id.isin(ids).fill_null(False)


def _at_least(rows: ir.Table, key: ir.Column, n: int) -> ir.Column:
    """``customer_id`` of the customers with at least ``n`` distinct ``key`` values among ``rows``."""
    if n == 1:
        return rows.customer_id
    per = rows.group_by("customer_id").aggregate(_n=key.nunique())
    return per.filter(per["_n"] >= n).customer_id


def compile_condition(
    node: Condition, profiles: ir.Table, now: datetime, behaviour: BehaviourTables | None = None
) -> ir.BooleanValue:
    """The boolean expression (true / false per profile row, never NULL) of ``node`` over ``profiles``.

    ``now`` (zone-aware) anchors ``now ± d`` and every behaviour window. The AST is type-checked
    first (:class:`~aftersales.core.segments.check.DefinitionError` for unknown fields and mismatches);
    a behaviour table the condition needs but was not given is a
    :class:`~aftersales.core.errors.MissingTableError`.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValidationError("now must carry a time zone")
    validate(node)
    return _Compiler(profiles, behaviour or BehaviourTables(), now.astimezone(UTC)).compile(node)


def members(node: Condition, profiles: ir.Table, now: datetime, behaviour: BehaviourTables | None = None) -> ir.Table:
    """The profile rows that belong to the segment ``node`` at ``now``."""
    return profiles.filter(compile_condition(node, profiles, now, behaviour))
