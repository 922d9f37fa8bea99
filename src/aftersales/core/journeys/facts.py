"""Where journey facts come from: the catalogue the runtime executes (data only, no queries).

A *fact* is something that happened to a customer at a time: a journey's trigger, the event a
``wait_for_event`` step waits for, its goal and its exit events. Six facts are read from the
store's own tables (an order's delivery is the ``delivered_at`` time of its row); every other
name (``segment.entered``, ``customer.churn_risk_changed``, ``checkout_started``, ...) is a row of
the ``events`` table with that ``name``, its properties the row's ``properties`` JSON object.

==================  ====================  =============  ===============  =========================================
fact name           table                 time column    key column       properties
==================  ====================  =============  ===============  =========================================
order.placed        orders                ordered_at     order_id         order_id, revenue, currency, channel, status
order.delivered     orders                delivered_at   order_id         (same)
order.returned      orders                returned_at    order_id         (same)
product.registered  product_registrations registered_at  registration_id  product_id, serial_number
ticket.created      tickets               opened_at      ticket_id        category, channel, order_id, product_id
survey.responded    survey_responses      responded_at   response_id      survey_id, kind, score, order_id
anything else       events                occurred_at    event_id         the row's properties JSON
==================  ====================  =============  ===============  =========================================

A fact's ``key`` (its row's key) makes the trigger key of the enrollment it starts, so one fact
enrolls a customer once. Date-rule triggers read the profile fields in :data:`DATE_FIELDS`
(:func:`~.triggers.date_rule_due`).

>>> fact_source("order.delivered").time_column, fact_source("checkout_started").table
('delivered_at', 'events')
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DATE_FIELDS", "EVENTS_TABLE", "FACT_SOURCES", "FactSource", "fact_source"]

EVENTS_TABLE = "events"


@dataclass(frozen=True)
class FactSource:
    """Where fact ``name`` lives: its table, the column holding its time and its key, and the
    columns exposed as its properties (``properties == ()`` with ``from_json``: the row's JSON)."""

    name: str
    table: str
    time_column: str
    key_column: str
    properties: tuple[str, ...]
    customer_column: str = "customer_id"
    from_json: bool = False


_ORDER_PROPERTIES = ("order_id", "revenue", "currency", "channel", "status")

FACT_SOURCES: dict[str, FactSource] = {
    s.name: s
    for s in (
        FactSource("order.placed", "orders", "ordered_at", "order_id", _ORDER_PROPERTIES),
        FactSource("order.delivered", "orders", "delivered_at", "order_id", _ORDER_PROPERTIES),
        FactSource("order.returned", "orders", "returned_at", "order_id", _ORDER_PROPERTIES),
        FactSource(
            "product.registered",
            "product_registrations",
            "registered_at",
            "registration_id",
            ("product_id", "serial_number"),
        ),
        FactSource(
            "ticket.created", "tickets", "opened_at", "ticket_id", ("category", "channel", "order_id", "product_id")
        ),
        FactSource(
            "survey.responded",
            "survey_responses",
            "responded_at",
            "response_id",
            ("survey_id", "kind", "score", "order_id"),
        ),
    )
}

# Profile columns (customer_profiles) a date rule may name: dates and time stamps.
DATE_FIELDS: tuple[str, ...] = (
    "next_maintenance_due_on",
    "warranty_ends_on",
    "expected_next_order_on",
    "first_order_at",
    "last_order_at",
)


def fact_source(name: str) -> FactSource:
    """The source of fact ``name``: its table row for the six table facts, else the events table."""
    known = FACT_SOURCES.get(name)
    if known is not None:
        return known
    return FactSource(name, EVENTS_TABLE, "occurred_at", "event_id", (), from_json=True)
