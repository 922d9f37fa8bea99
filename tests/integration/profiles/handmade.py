"""A small hand-made store and its profiles, worked out by hand (docs/profiles.md has the rules).

``NOW`` is 2024-07-01 00:00 UTC (reporting zone UTC), so the historical-CLV year is
[2023-07-02, 2024-07-01). Orders are placed at 12:00 UTC unless noted.

orders (counted unless noted; revenue):
  c1: o1 06-20 100 (P1), o2 05-01 50 (P2 + P1), o3 06-25 30 (P3) *returned*
  c2: o4 01-10 200 (P3)
  c3: o5 2023-05-01 80 (P1)                     -> outside the year: year revenue 0
  c5: o6 04-15 40 (P2), o7 06-28 60 (P3) *cancelled*
  c6: o8 06-30 10, o9 06-10 10, o10 03-01 10 (P1 each)
  c7: o11 07-02 15 (P1) *after now*             -> no orders yet
  c8: o12 2023-12-31 25 (P4, no category)
  c4: none

Six customers have counted orders (c1 c2 c3 c5 c6 c8):
  days since last order  c1 10 · c2 172 · c3 426 · c5 76 · c6 0 · c8 182
  R (fewer days better)  c3 1 · c8 1 · c2 2 · c5 3 · c1 4 · c6 5     (below = 0,1,2,3,4,5 of n = 6)
  F (orders)             c2 c3 c5 c8 1 · c1 4 · c6 5                   (one-order ties share 1)
  M (revenue)            c8 1 · c6 1 · c5 2 · c3 3 · c1 4 · c2 5       (25 30 40 80 150 200)
  segment                c1 (4,4) loyal · c2 (2,1) hibernating · c3 (1,1) lost · c5 (3,1) about_to_sleep
                         c6 (5,5) champions · c8 (1,1) lost
  year revenue           c1 150 · c2 200 · c3 0 · c5 40 · c6 30 · c8 25 -> historical CLV = that x lifespan
  CLV tier               mean over the six = 445/6 x lifespan: above c1 c2; below c3 c5 c6 c8
  CLV quantile tier      c3 1 · c8 1 · c6 2 · c5 3 · c1 4 · c2 5

registrations (products: P1 bikes every 90 days, warranty 365; P2 helmets no interval, warranty 0;
P3 locks every 30 days, warranty 730):
  c1 P1 registered 03-01 00:00, bought 02-20 12:00 -> service 05-30, 08-28 (next); warranty to 2025-02-18
  c1 P3 registered 06-15 06:00                    -> service 07-15; warranty to 2026-06-14
     c1: next maintenance 2024-07-15, warranty ends 2026-06-14, products [P1, P3]
  c2 P2 registered 02-01                          -> no interval, no warranty: both NULL, products [P2]
  c3 P3 registered 06-01 00:00                    -> due exactly at now (07-01 00:00): rolls to 07-31;
                                                     warranty to 2026-05-31
  c5 P1 registered 07-05                          -> after now: ignored

surveys (dimension overall unless noted): c1 nps 9 (06-01), nps 3 (06-20) -> last 3 detractor;
c1 csat 4 (05-01), csat 1 *shipping* (06-25) -> last csat 4; c2 nps 8 (06-30 23:00) -> passive,
nps 10 (07-02) after now; c3 csat 2 (01-01); an anonymous nps 0.
tickets: c1 open + pending + solved -> 2; c2 closed -> 0; c3 open on 07-03 (after now) -> 0; c5 open -> 1.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from aftersales.core.contract import arrow_schema

NOW = datetime(2024, 7, 1, tzinfo=UTC)


def t(y: int, m: int, d: int, h: int = 12) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


CUSTOMERS = [
    dict(customer_id=f"c{i}", country=cc, acquisition_channel=ch, email_consent=e, sms_consent=s,
         created_at=t(2023, 1, 1))
    for i, cc, ch, e, s in [
        (1, "DE", "organic", True, False), (2, "FR", "paid_search", False, True), (3, "DE", "email", True, True),
        (4, "US", "organic", False, False), (5, "GB", "social", True, False), (6, "DE", "organic", True, True),
        (7, "FR", "referral", False, False), (8, "US", None, None, None),
    ]
]  # fmt: skip
PRODUCTS = [
    dict(product_id="P1", category="bikes", service_interval_days=90, warranty_days=365, price=100.0),
    dict(product_id="P2", category="helmets", service_interval_days=None, warranty_days=0, price=50.0),
    dict(product_id="P3", category="locks", service_interval_days=30, warranty_days=730, price=30.0),
    dict(product_id="P4", category=None, service_interval_days=None, warranty_days=None, price=25.0),
]
_ORDERS = [
    ("o1", "c1", t(2024, 6, 20), "delivered", 100.0, ["P1"]),
    ("o2", "c1", t(2024, 5, 1), "delivered", 50.0, ["P2", "P1"]),
    ("o3", "c1", t(2024, 6, 25), "returned", 30.0, ["P3"]),
    ("o4", "c2", t(2024, 1, 10), "delivered", 200.0, ["P3"]),
    ("o5", "c3", t(2023, 5, 1), "delivered", 80.0, ["P1"]),
    ("o6", "c5", t(2024, 4, 15), "delivered", 40.0, ["P2"]),
    ("o7", "c5", t(2024, 6, 28), "cancelled", 60.0, ["P3"]),
    ("o8", "c6", t(2024, 6, 30), "delivered", 10.0, ["P1"]),
    ("o9", "c6", t(2024, 6, 10), "delivered", 10.0, ["P1"]),
    ("o10", "c6", t(2024, 3, 1), "delivered", 10.0, ["P1"]),
    ("o11", "c7", t(2024, 7, 2), "placed", 15.0, ["P1"]),
    ("o12", "c8", t(2023, 12, 31), "delivered", 25.0, ["P4"]),
]
ORDERS = [
    dict(order_id=o, customer_id=c, ordered_at=at, status=s, revenue=r,
         returned_at=at if s == "returned" else None, cancelled_at=at if s == "cancelled" else None)
    for o, c, at, s, r, _ in _ORDERS
]  # fmt: skip
ORDER_LINES = [
    dict(order_id=o, line_number=i + 1, product_id=p, quantity=1, unit_price=10.0)
    for o, _, _, _, _, lines in _ORDERS
    for i, p in enumerate(lines)
]
REGISTRATIONS = [
    dict(registration_id="r1", customer_id="c1", product_id="P1", registered_at=t(2024, 3, 1, 0),
         purchased_at=t(2024, 2, 20)),
    dict(registration_id="r2", customer_id="c1", product_id="P3", registered_at=t(2024, 6, 15, 6)),
    dict(registration_id="r3", customer_id="c2", product_id="P2", registered_at=t(2024, 2, 1)),
    dict(registration_id="r4", customer_id="c3", product_id="P3", registered_at=t(2024, 6, 1, 0)),
    dict(registration_id="r5", customer_id="c5", product_id="P1", registered_at=t(2024, 7, 5)),
]  # fmt: skip
SURVEYS = [
    dict(response_id="s1", dimension="overall", survey_id="nps", customer_id="c1", kind="nps", score=9,
         responded_at=t(2024, 6, 1)),
    dict(response_id="s2", dimension="overall", survey_id="nps", customer_id="c1", kind="nps", score=3,
         responded_at=t(2024, 6, 20)),
    dict(response_id="s3", dimension="overall", survey_id="csat", customer_id="c1", kind="csat", score=4,
         responded_at=t(2024, 5, 1)),
    dict(response_id="s4", dimension="shipping", survey_id="csat", customer_id="c1", kind="csat", score=1,
         responded_at=t(2024, 6, 25)),
    dict(response_id="s5", dimension="overall", survey_id="nps", customer_id="c2", kind="nps", score=8,
         responded_at=t(2024, 6, 30, 23)),
    dict(response_id="s6", dimension="overall", survey_id="nps", customer_id="c2", kind="nps", score=10,
         responded_at=t(2024, 7, 2)),
    dict(response_id="s7", dimension="overall", survey_id="csat", customer_id="c3", kind="csat", score=2,
         responded_at=t(2024, 1, 1)),
    dict(response_id="s8", dimension="overall", survey_id="nps", customer_id=None, kind="nps", score=0,
         responded_at=t(2024, 6, 1)),
]  # fmt: skip
TICKETS = [
    dict(ticket_id="k1", customer_id="c1", status="open", opened_at=t(2024, 6, 1)),
    dict(ticket_id="k2", customer_id="c1", status="pending", opened_at=t(2024, 6, 2)),
    dict(ticket_id="k3", customer_id="c1", status="solved", opened_at=t(2024, 5, 2)),
    dict(ticket_id="k4", customer_id="c2", status="closed", opened_at=t(2024, 5, 2)),
    dict(ticket_id="k5", customer_id="c3", status="open", opened_at=t(2024, 7, 3)),
    dict(ticket_id="k6", customer_id="c5", status="open", opened_at=t(2024, 6, 3)),
]

ROWS: dict[str, list[dict[str, Any]]] = {
    "customers": CUSTOMERS,
    "products": PRODUCTS,
    "orders": ORDERS,
    "order_lines": ORDER_LINES,
    "product_registrations": REGISTRATIONS,
    "survey_responses": SURVEYS,
    "tickets": TICKETS,
}


def arrow_tables() -> dict[str, pa.Table]:
    """The store as Arrow tables in the contract's schemas (absent columns NULL)."""
    out = {}
    for name, rows in ROWS.items():
        schema = arrow_schema(name)
        out[name] = pa.Table.from_pylist([{c: r.get(c) for c in schema.names} for r in rows], schema=schema)
    return out


# The expected profiles (columns that do not depend on the store's lifespan); None = NULL.
D = date
EXPECTED: dict[str, dict[str, Any]] = {
    "c1": dict(orders=2, revenue=150.0, aov=75.0, days_since_last_order=10, first_order_at=t(2024, 5, 1),
               last_order_at=t(2024, 6, 20), rfm_recency=4, rfm_frequency=4, rfm_monetary=4, rfm_segment="loyal",
               clv_tier="above_average", clv_quantile_tier=4, last_nps_score=3, last_nps_class="detractor",
               last_csat_score=4, open_tickets=2, categories_bought=["bikes", "helmets"],
               products_registered=["P1", "P3"], next_maintenance_due_on=D(2024, 7, 15),
               warranty_ends_on=D(2026, 6, 14), email_consent=True, sms_consent=False, country="DE",
               acquisition_channel="organic"),
    "c2": dict(orders=1, revenue=200.0, aov=200.0, days_since_last_order=172, rfm_recency=2, rfm_frequency=1,
               rfm_monetary=5, rfm_segment="hibernating", clv_tier="above_average", clv_quantile_tier=5,
               last_nps_score=8, last_nps_class="passive", last_csat_score=None, open_tickets=0,
               categories_bought=["locks"], products_registered=["P2"], next_maintenance_due_on=None,
               warranty_ends_on=None),
    "c3": dict(orders=1, revenue=80.0, days_since_last_order=426, rfm_recency=1, rfm_frequency=1, rfm_monetary=3,
               rfm_segment="lost", clv_tier="below_average", clv_quantile_tier=1, last_nps_score=None,
               last_csat_score=2, open_tickets=0, categories_bought=["bikes"], products_registered=["P3"],
               next_maintenance_due_on=D(2024, 7, 31), warranty_ends_on=D(2026, 5, 31)),
    "c4": dict(orders=0, revenue=0.0, aov=None, days_since_last_order=None, first_order_at=None, rfm_recency=None,
               rfm_segment=None, historical_clv=None, clv_tier=None, clv_quantile_tier=None, open_tickets=0,
               categories_bought=[], products_registered=[], next_maintenance_due_on=None),
    "c5": dict(orders=1, revenue=40.0, days_since_last_order=76, rfm_recency=3, rfm_frequency=1, rfm_monetary=2,
               rfm_segment="about_to_sleep", clv_tier="below_average", clv_quantile_tier=3, open_tickets=1,
               categories_bought=["helmets"], products_registered=[], next_maintenance_due_on=None),
    "c6": dict(orders=3, revenue=30.0, aov=10.0, days_since_last_order=0, rfm_recency=5, rfm_frequency=5,
               rfm_monetary=1, rfm_segment="champions", clv_tier="below_average", clv_quantile_tier=2,
               categories_bought=["bikes"]),
    "c7": dict(orders=0, revenue=0.0, rfm_segment=None, categories_bought=[], historical_clv=None),
    "c8": dict(orders=1, revenue=25.0, days_since_last_order=182, rfm_recency=1, rfm_frequency=1, rfm_monetary=1,
               rfm_segment="lost", clv_tier="below_average", clv_quantile_tier=1, categories_bought=[],
               email_consent=None, acquisition_channel=None),
}  # fmt: skip
YEAR_REVENUE = {"c1": 150.0, "c2": 200.0, "c3": 0.0, "c5": 40.0, "c6": 30.0, "c8": 25.0}
REPEAT_CUSTOMERS = 2  # c1 and c6 bought on two different days


def store_rows(name: str) -> list[dict[str, Any]]:
    """Every contract column of table ``name``'s rows (NULL where the row names none), for inserting."""
    return arrow_tables()[name].to_pylist()
