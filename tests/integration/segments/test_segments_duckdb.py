"""Segments compiled to Ibis and run on DuckDB over a hand-made profile table and behaviour tables.

``now`` is 2024-06-30 12:00 UTC. Expected members are worked out by hand from the rows below:

orders (counted unless noted): o1 c1 06-20 bikes · o2 c1 05-01 helmets · o3 c1 06-29 locks, *returned* ·
o4 c2 01-10 bikes · o5 c3 2023-12-01 locks · o6 c5 04-15 helmets · o7 c5 06-25 bikes, *cancelled* ·
o8 c2 07-05 bikes, *after now* · o10 c6 04-01 12:00 bikes, *exactly now - 90 days* (outside 90 days).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import pyarrow as pa
import pytest

from aftersales.core.contract import arrow_schema
from aftersales.core.errors import MissingTableError, ValidationError
from aftersales.core.segments.ast import BoolField, Compare
from aftersales.core.segments.check import DefinitionError
from aftersales.core.segments.compile import BehaviourTables, compile_condition, members
from aftersales.core.segments.fields import profile_schema
from aftersales.core.segments.json_form import from_json, to_json
from aftersales.core.segments.text import parse

NOW = datetime(2024, 6, 30, 12, tzinfo=UTC)


def _t(m: int, d: int, h: int = 9, y: int = 2024) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


PROFILES: list[dict[str, Any]] = [
    dict(customer_id="c1", clv_tier="above_average", churn_risk="high", email_consent=True, sms_consent=False,
         orders=5, country="DE", categories_bought=["bikes", "helmets"], last_order_at=_t(6, 20),
         warranty_ends_on=date(2024, 7, 10)),
    dict(customer_id="c2", clv_tier="above_average", churn_risk="medium", email_consent=False, orders=3,
         country="FR", categories_bought=["bikes"], last_order_at=_t(1, 10), warranty_ends_on=date(2024, 6, 29)),
    dict(customer_id="c3", clv_tier="below_average", churn_risk="low", email_consent=True, orders=1, country="DE",
         categories_bought=["locks"], last_order_at=_t(12, 1, y=2023), warranty_ends_on=date(2024, 7, 30)),
    dict(customer_id="c4", clv_tier="below_average", orders=0),
    dict(customer_id="c5", clv_tier="above_average", churn_risk="high", email_consent=True, orders=2, country="US",
         categories_bought=[], last_order_at=_t(4, 15, 10)),
    dict(customer_id="c6", clv_tier="below_average", churn_risk="low", email_consent=False, orders=1, country="GB",
         categories_bought=["bikes"], last_order_at=_t(4, 1, 12)),
]  # fmt: skip
ORDERS = [
    ("o1", "c1", _t(6, 20), "delivered"),
    ("o2", "c1", _t(5, 1), "delivered"),
    ("o3", "c1", _t(6, 29), "returned"),
    ("o4", "c2", _t(1, 10), "delivered"),
    ("o5", "c3", _t(12, 1, y=2023), "delivered"),
    ("o6", "c5", _t(4, 15, 10), "delivered"),
    ("o7", "c5", _t(6, 25), "cancelled"),
    ("o8", "c2", _t(7, 5), "placed"),
    ("o10", "c6", _t(4, 1, 12), "delivered"),
]
LINES = {"o1": "B1", "o2": "H1", "o3": "L1", "o4": "B1", "o5": "L1", "o6": "H1", "o7": "B1", "o8": "B1", "o10": "B1"}
PRODUCTS = {"B1": "bikes", "H1": "helmets", "L1": "locks"}
EVENTS = [
    ("c1", "checkout_started", _t(6, 28)),
    ("c1", "checkout_completed", _t(6, 28, 10)),
    ("c2", "checkout_started", _t(6, 29)),
    ("c2", "checkout_started", _t(5, 1)),
    ("c3", "checkout_started", _t(6, 10)),
    (None, "checkout_started", _t(6, 29)),
    ("c5", "checkout_started", _t(6, 25)),
    ("c5", "checkout_completed", _t(6, 1)),
]
REGISTRATIONS = [("c1", "B1", _t(6, 21)), ("c4", "B1", _t(7, 10)), ("c3", "L1", _t(1, 5))]


def _table(rows: list[dict[str, Any]], schema: pa.Schema) -> ibis.Table:
    return ibis.memtable(pa.Table.from_pylist(rows, schema=schema))


@pytest.fixture(scope="module")
def world() -> tuple[Any, ibis.Table, BehaviourTables]:
    profiles = _table(PROFILES, profile_schema().to_pyarrow())
    orders = [
        dict(order_id=o, customer_id=c, ordered_at=at, status=s, revenue=10.0, returned_at=None)
        for o, c, at, s in ORDERS
    ]
    behaviour = BehaviourTables(
        orders=_table(orders, arrow_schema("orders")),
        order_lines=_table(
            [dict(order_id=o, line_number=1, product_id=p, quantity=1, unit_price=10.0) for o, p in LINES.items()],
            arrow_schema("order_lines"),
        ),
        products=_table([dict(product_id=p, category=c) for p, c in PRODUCTS.items()], arrow_schema("products")),
        events=_table(
            [dict(event_id=f"e{i}", customer_id=c, name=n, occurred_at=at) for i, (c, n, at) in enumerate(EVENTS)],
            arrow_schema("events"),
        ),
        product_registrations=_table(
            [
                dict(registration_id=f"r{i}", customer_id=c, product_id=p, registered_at=at)
                for i, (c, p, at) in enumerate(REGISTRATIONS)
            ],
            arrow_schema("product_registrations"),
        ),
    )
    return ibis.duckdb.connect(), profiles, behaviour


def _members(world: tuple[Any, ibis.Table, BehaviourTables], text: str, now: datetime = NOW) -> set[str]:
    con, profiles, behaviour = world
    tree = parse(text)
    got = set(con.to_pyarrow(members(tree, profiles, now, behaviour).customer_id).to_pylist())
    via_json = set(con.to_pyarrow(members(from_json(to_json(tree)), profiles, now, behaviour).customer_id).to_pylist())
    assert via_json == got
    return got


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("clv_tier = 'above_average' and churn_risk in ('high', 'medium') and email_consent", {"c1", "c5"}),
        ("not churn_risk = 'high'", {"c2", "c3", "c4", "c6"}),  # two-valued: c4's null risk is kept by 'not'
        ("churn_risk != 'high'", {"c2", "c3", "c6"}),  # ... and left out by '!='
        ("country not in ('DE')", {"c2", "c5", "c6"}),
        ("country is null", {"c4"}),
        ("country is not null and orders between 2 and 3", {"c2", "c5"}),
        ("orders not between 1 and 3", {"c1", "c4"}),
        ("orders >= 2 and orders < 5 or orders = 0", {"c2", "c4", "c5"}),
        ("orders >= 2 and (orders < 5 or orders = 0)", {"c2", "c5"}),
        ("last_order_at < now - 90 days", {"c2", "c3"}),  # c6's last order is exactly now - 90 days
        ("last_order_at <= now - 90 days", {"c2", "c3", "c6"}),
        ("last_order_at >= date '2024-04-15'", {"c1", "c5"}),
        ("last_order_at > timestamp '2024-04-15T10:00:00+00:00'", {"c1"}),
        ("warranty_ends_on between now and now + 30 days", {"c1", "c3"}),  # 2024-06-30 .. 2024-07-30 inclusive
        ("warranty_ends_on < date '2024-07-01'", {"c2"}),
        ("categories_bought contains 'bikes'", {"c1", "c2", "c6"}),
        ("email_consent", {"c1", "c3", "c5"}),
        ("not email_consent", {"c2", "c4", "c6"}),
        ("email_consent = false", {"c2", "c6"}),
        ("sms_consent is null", {"c2", "c3", "c4", "c5", "c6"}),
    ],
)
def test_profile_conditions(world: Any, text: str, expected: set[str]) -> None:
    assert _members(world, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ordered(category = 'bikes', within = 90 days)", {"c1"}),  # o7 cancelled, o8 future, o10 on the boundary
        ("ordered(category = 'bikes', within = 91 days)", {"c1", "c6"}),
        ("ordered(within = 90 days)", {"c1", "c5"}),
        ("ordered()", {"c1", "c2", "c3", "c5", "c6"}),
        ("ordered(at_least = 2)", {"c1"}),  # c2's second order (o8) is after now
        ("ordered(product = 'L1')", {"c3"}),  # o3 was returned
        ("ordered(category = 'helmets', product = 'B1')", set()),
        ("no_order_for(120 days)", {"c2", "c3", "c4"}),
        ("no_order_for(120 days) and orders >= 1", {"c2", "c3"}),
        ("email_consent and no_order_for(120 days)", {"c3"}),
        ("event('checkout_started', within = 7 days)", {"c1", "c2", "c5"}),
        (
            "event('checkout_started', within = 7 days) and not event('checkout_completed', within = 7 days)",
            {"c2", "c5"},
        ),
        ("event('checkout_started', at_least = 2)", {"c2"}),
        ("owns('B1')", {"c1"}),  # c4 registers after now
        ("owns('B1') or owns('L1')", {"c1", "c3"}),
        ("not owns('B1')", {"c2", "c3", "c4", "c5", "c6"}),
    ],
)
def test_behavioural_conditions(world: Any, text: str, expected: set[str]) -> None:
    assert _members(world, text) == expected


def test_now_is_an_argument(world: Any) -> None:
    later = datetime(2024, 7, 10, 12, tzinfo=UTC)  # c4 registers B1 at 09:00 that day
    assert _members(world, "ordered(within = 90 days)", later) == {"c1", "c2", "c5"}
    assert _members(world, "owns('B1')", later) == {"c1", "c4"}
    in_oslo = datetime(2024, 6, 30, 14, tzinfo=UTC).astimezone(ZoneInfo("Europe/Oslo"))  # 16:00 local
    assert _members(world, "ordered(within = 90 days)", in_oslo) == {"c1", "c5"}


def test_the_expression_is_never_null(world: Any) -> None:
    con, profiles, behaviour = world
    expr = compile_condition(parse("not (churn_risk = 'high' or country = 'FR')"), profiles, NOW, behaviour)
    flags = con.to_pyarrow(profiles.select("customer_id", flag=expr).order_by("customer_id"))
    assert flags["flag"].to_pylist() == [False, False, True, True, False, True]


def test_missing_behaviour_table_is_named(world: Any) -> None:
    _, profiles, behaviour = world
    only_orders = BehaviourTables(orders=behaviour.orders)
    with pytest.raises(MissingTableError, match=r"ordered\(category = 'bikes'\) needs the order_lines table"):
        compile_condition(parse("ordered(category = 'bikes')"), profiles, NOW, only_orders)


def test_bad_inputs_are_rejected_before_building(world: Any) -> None:
    _, profiles, behaviour = world
    with pytest.raises(ValidationError, match="time zone"):
        compile_condition(BoolField("email_consent"), profiles, datetime(2024, 6, 30), behaviour)
    with pytest.raises(DefinitionError) as info:
        compile_condition(Compare("clv_teir", "=", "x"), profiles, NOW, behaviour)
    assert info.value.errors[0].loc == ("definition",)
