"""Create, update, read and list the contract's resources (customers, products, orders with lines,
subscriptions, product registrations, tickets, survey responses) through the service plane.

Rules beyond the field types (which the API schemas enforce from ``core/contract.py``):

- a key that exists already is a conflict (409); updating a missing row is not found (404);
- every foreign key must name a stored row (422 naming the field), checked before writing;
- a survey score must lie on its kind's scale: NPS 0-10, CSAT 1-5, CES 1-7;
- a missing optional value takes the contract's default on create (e.g. order status ``placed``);
- each create and update queues webhook deliveries in the same transaction (outbox), so a
  subscriber hears of exactly the writes that were committed.

Lists are ordered by key and paged with an opaque cursor (``services/operational/cursors.py``: the last key seen,
checked against the resource's key column types when it comes back).

>>> score_problem("csat", 6)
'csat scores run from 1 to 5, got 6'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aftersales.core import contract
from aftersales.core.errors import ConflictError, FieldError, NotFoundError, ValidationError
from aftersales.core.events import RESOURCE_EVENTS
from aftersales.services.operational import webhooks
from aftersales.services.operational.cursors import CursorValue, decode_cursor, encode_cursor
from aftersales.services.ports import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "RESOURCES",
    "Page",
    "Resource",
    "create",
    "get",
    "key_types",
    "list_page",
    "score_problem",
    "update",
]

SCORE_SCALES = contract.SURVEY_SCALES  # defined once, in the data contract


@dataclass(frozen=True)
class Resource:
    """An API resource over one contract table (``lines``: orders carry their order lines)."""

    path: str
    table: str
    created_event: str
    updated_event: str
    lines: str | None = None

    @property
    def spec(self) -> contract.Table:
        return contract.get_table(self.table)


RESOURCES: dict[str, Resource] = {
    r.path: r
    for r in (
        Resource("customers", "customers", *RESOURCE_EVENTS["customers"]),
        Resource("products", "products", *RESOURCE_EVENTS["products"]),
        Resource("orders", "orders", *RESOURCE_EVENTS["orders"], lines="order_lines"),
        Resource("subscriptions", "subscriptions", *RESOURCE_EVENTS["subscriptions"]),
        Resource("product-registrations", "product_registrations", *RESOURCE_EVENTS["product_registrations"]),
        Resource("tickets", "tickets", *RESOURCE_EVENTS["tickets"]),
        Resource("survey-responses", "survey_responses", *RESOURCE_EVENTS["survey_responses"]),
    )
}


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


_KEY_TYPES: dict[str, type[CursorValue]] = {"string": str, "int": int}


def key_types(table: contract.Table) -> tuple[type[CursorValue], ...]:
    """The Python type of each key column of ``table``, in key order (what its list cursors hold).

    >>> key_types(contract.get_table("survey_responses"))
    (<class 'str'>, <class 'str'>)
    """
    by_name = {c.name: c.type for c in table.columns}
    return tuple(_KEY_TYPES[by_name[k]] for k in table.key)


def score_problem(kind: str, score: int) -> str | None:
    """Why ``score`` is off the ``kind`` scale, or None."""
    lo, hi = SCORE_SCALES[kind]
    return None if lo <= score <= hi else f"{kind} scores run from {lo} to {hi}, got {score}"


def _check_parents(
    u: UnitOfWork, table: str, row: Mapping[str, Any], loc: tuple[str | int, ...], skip: str | None = None
) -> list[FieldError]:
    errors = []
    for col, (parent, pcol) in contract.get_table(table).parents.items():
        value = row.get(col)
        if parent == skip:  # an order's lines point at the order being written
            continue
        if value is not None and not u.resources.exists(parent, {pcol: value}):
            errors.append(FieldError((*loc, col), f"no {parent} row with {pcol} {value!r}"))
    return errors


def _check(u: UnitOfWork, res: Resource, row: Mapping[str, Any], lines: list[dict[str, Any]] | None) -> None:
    errors = _check_parents(u, res.table, row, ())
    if res.table == "survey_responses" and (msg := score_problem(row["kind"], row["score"])):
        errors.append(FieldError(("score",), msg))
    if lines is not None and res.lines:
        numbers = [ln["line_number"] for ln in lines]
        if len(set(numbers)) != len(numbers):
            errors.append(FieldError(("lines",), "line_number values must be unique within an order"))
        for i, ln in enumerate(lines):
            errors += _check_parents(u, res.lines, ln, ("lines", i), skip=res.table)
    if errors:
        raise ValidationError(f"{len(errors)} invalid field(s)", errors)


def _key(res: Resource, values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: values[k] for k in res.spec.key}


def _with_defaults(table: contract.Table, data: Mapping[str, Any]) -> dict[str, Any]:
    return {c.name: data[c.name] if data.get(c.name) is not None else c.default for c in table.columns}


def _lines(res: Resource, lines: list[Mapping[str, Any]] | None, key: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    if not res.lines:
        return None
    return [_with_defaults(contract.get_table(res.lines), {**ln, **key}) for ln in lines or []]


def _read(u: UnitOfWork, res: Resource, key: Mapping[str, Any]) -> dict[str, Any]:
    row = u.resources.get(res.table, key)
    if row is None:
        shown = ", ".join(f"{k}={v!r}" for k, v in key.items())
        raise NotFoundError(f"no {res.path} with {shown}")
    if res.lines:
        row["lines"] = u.resources.select(res.lines, where=key)
    return row


def _publish(u: UnitOfWork, event_type: str, row: Mapping[str, Any]) -> None:
    webhooks.publish(u, event_type, dict(row))


def create(uow: UnitOfWorkFactory, path: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Create one row (an order with its lines); conflict when the key exists."""
    res = RESOURCES[path]
    row = _with_defaults(res.spec, data)
    lines = _lines(res, data.get("lines"), _key(res, row))
    with uow() as u:
        if u.resources.exists(res.table, _key(res, row)):
            raise ConflictError(f"{res.path} {'/'.join(map(str, _key(res, row).values()))} exists already")
        _check(u, res, row, lines)
        u.resources.insert(res.table, [row])
        if res.lines and lines:
            u.resources.insert(res.lines, lines)
        out = _read(u, res, _key(res, row))
        _publish(u, res.created_event, out)
    return out


def update(uow: UnitOfWorkFactory, path: str, key: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change the given fields of one row (an order's ``lines``, when given, replace its lines)."""
    res = RESOURCES[path]
    fields = {k: v for k, v in changes.items() if k != "lines"}
    with uow() as u:
        current = _read(u, res, key)
        merged = {**current, **fields}
        lines = _lines(res, changes.get("lines"), key) if changes.get("lines") is not None else None
        _check(u, res, merged, lines)
        if fields:
            u.resources.update(res.table, key, fields)
        if res.lines and lines is not None:
            u.resources.delete_where(res.lines, key)
            if lines:
                u.resources.insert(res.lines, lines)
        out = _read(u, res, key)
        _publish(u, res.updated_event, out)
    return out


def get(uow: UnitOfWorkFactory, path: str, key: Mapping[str, Any]) -> dict[str, Any]:
    with uow() as u:
        return _read(u, RESOURCES[path], key)


def list_page(
    uow: UnitOfWorkFactory,
    path: str,
    *,
    limit: int = 100,
    cursor: str | None = None,
    where: Mapping[str, Any] | None = None,
) -> Page:
    """One page of rows in key order, and the cursor of the next page (None on the last)."""
    res = RESOURCES[path]
    after = decode_cursor(cursor, key_types(res.spec)) if cursor else None
    with uow() as u:
        rows = u.resources.select(res.table, where=where, after=after, limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        if res.lines and rows:
            keys = [r[res.spec.key[0]] for r in rows]
            by_order: dict[Any, list[dict[str, Any]]] = {k: [] for k in keys}
            for ln in u.resources.select(res.lines, where={res.spec.key[0]: keys}):
                by_order[ln[res.spec.key[0]]].append(ln)
            for r in rows:
                r["lines"] = by_order[r[res.spec.key[0]]]
    next_cursor = encode_cursor([rows[-1][k] for k in res.spec.key]) if more else None
    return Page(rows, next_cursor)
