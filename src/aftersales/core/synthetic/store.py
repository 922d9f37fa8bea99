"""``generate_store``: a whole synthetic store, deterministic for a seed.

Each table family draws from its own random stream (``SeedSequence(seed).spawn``), so changing how
one family is drawn leaves the others as they were. Customers' time zones and locales, added later,
draw from one more stream spawned after the phases' (``spawn`` numbers its children, so the
phases' streams are those they always were); the CES responses with themed comments
(``feedback.py``) from one more after that, appended to ``survey_responses`` after its NPS and CSAT
rows, with their truth under ``truth["surveys"]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa

from aftersales.core.synthetic.acquisition import draw_customers
from aftersales.core.synthetic.aftercare import draw_registrations, draw_tickets
from aftersales.core.synthetic.arrays import key_width
from aftersales.core.synthetic.baskets import draw_baskets
from aftersales.core.synthetic.catalogue import draw_catalogue
from aftersales.core.synthetic.costs import draw_costs
from aftersales.core.synthetic.events import draw_events
from aftersales.core.synthetic.feedback import draw_feedback
from aftersales.core.synthetic.fulfilment import ORDER_CHANNELS, draw_fulfilment
from aftersales.core.synthetic.params import StoreParams, truth_document
from aftersales.core.synthetic.purchasing import draw_purchases
from aftersales.core.synthetic.subscriptions import draw_subscriptions
from aftersales.core.synthetic.surveys import draw_survey_responses

__all__ = ["PHASES", "SyntheticStore", "generate_store"]

PHASES: tuple[str, ...] = (
    "customers",
    "products",
    "purchases",
    "order_lines",
    "orders",
    "subscriptions",
    "product_registrations",
    "tickets",
    "survey_responses",
    "events",
    "costs",
)
"""The generation phases, in order; ``on_phase`` is called with each name once it is done."""


@dataclass(frozen=True)
class SyntheticStore:
    """Contract tables (``tables[name]`` has exactly ``arrow_schema(name)``) and the truth behind them."""

    tables: dict[str, pa.Table]
    truth: dict[str, object]
    customer_truth: pa.Table = field(repr=False)
    """Per customer (same order as ``customers``): customer_id and the latent λ, p, ν, alive flag."""

    def row_counts(self) -> dict[str, int]:
        return {name: t.num_rows for name, t in self.tables.items()}


def generate_store(
    n_customers: int,
    seed: int,
    as_of: date,
    *,
    params: StoreParams | None = None,
    on_phase: Callable[[str], None] | None = None,
) -> SyntheticStore:
    """Draw a store of ``n_customers`` acquired over the ``history_days`` before ``as_of``.

    Everything happens before 00:00 UTC of ``as_of`` (the observation end).

    >>> s = generate_store(50, seed=1, as_of=date(2024, 1, 1))
    >>> s.tables["customers"].num_rows, s.truth["bgnbd"]["weeks"]["r"]
    (50, 1.4)
    """
    if n_customers < 1:
        raise ValueError("n_customers must be at least 1")
    params = params or StoreParams()
    done = on_phase or (lambda _name: None)
    *seeds, places_seed, feedback_seed = np.random.SeedSequence(seed).spawn(len(PHASES) + 2)
    streams = {name: np.random.default_rng(s) for name, s in zip(PHASES, seeds, strict=True)}
    end_day = (as_of - date(1970, 1, 1)).days
    first_day = end_day - params.history_days

    customers = draw_customers(
        streams["customers"], n_customers, first_day, end_day, params, places=np.random.default_rng(places_seed)
    )
    done("customers")
    catalogue = draw_catalogue(streams["products"])
    done("products")
    rng = streams["purchases"]
    first_purchase = np.minimum(customers.created + rng.uniform(0, 20, n_customers) / 1440.0, end_day - 1e-9)
    purchases = draw_purchases(rng, first_purchase, float(end_day), params)
    done("purchases")
    n_orders = purchases.time.size
    order_width = key_width(n_orders, 8)
    baskets = draw_baskets(streams["order_lines"], purchases.value, catalogue, order_width)
    done("order_lines")
    marketplace = customers.channel == list(params.channels).index("marketplace")
    fulfilment = draw_fulfilment(
        streams["orders"],
        customer=purchases.customer,
        time=purchases.time,
        customer_ids=customers.ids,
        marketplace_customer=marketplace,
        baskets=baskets,
        end_day=float(end_day),
        order_width=order_width,
        params=params,
    )
    done("orders")
    subscriptions, mrr = draw_subscriptions(
        streams["subscriptions"], created=customers.created, customer_ids=customers.ids, end_day=end_day, params=params
    )
    done("subscriptions")
    registrations = draw_registrations(
        streams["product_registrations"],
        line_order=baskets.line_order,
        line_product=baskets.line_product,
        registrable=catalogue.registrable,
        order_customer=purchases.customer,
        order_time=purchases.time,
        delivered=fulfilment.delivered,
        customer_ids=customers.ids,
        product_ids=catalogue.ids,
        end_day=end_day,
    )
    done("product_registrations")
    tickets = draw_tickets(
        streams["tickets"],
        order_customer=purchases.customer,
        order_time=purchases.time,
        delivered=fulfilment.delivered,
        returned=fulfilment.returned,
        late=fulfilment.late,
        first_product=baskets.first_product,
        registrations=registrations,
        customer_ids=customers.ids,
        order_ids_width=order_width,
        product_ids=catalogue.ids,
        end_day=end_day,
    )
    done("tickets")
    surveys = draw_survey_responses(
        streams["survey_responses"],
        order_customer=purchases.customer,
        delivered=fulfilment.delivered,
        returned=fulfilment.returned,
        late=fulfilment.late,
        tickets=tickets,
        customer_ids=customers.ids,
        order_width=order_width,
        end_day=end_day,
        params=params,
    )
    feedback = draw_feedback(
        np.random.default_rng(feedback_seed),
        order_customer=purchases.customer,
        delivered=fulfilment.delivered,
        returned=fulfilment.returned,
        late=fulfilment.late,
        customer_ids=customers.ids,
        order_width=order_width,
        end_day=float(end_day),
    )
    surveys = pa.concat_tables([surveys, feedback.table])
    done("survey_responses")
    events = draw_events(
        streams["events"],
        order_customer=purchases.customer,
        order_time=purchases.time,
        order_revenue=baskets.revenue,
        order_channel=fulfilment.channel,
        order_channel_names=ORDER_CHANNELS,
        created=customers.created,
        registration_customer=registrations.customer,
        registration_product=registrations.product,
        registration_time=registrations.registered,
        customer_ids=customers.ids,
        product_ids=catalogue.ids,
        order_width=order_width,
        registration_width=key_width(registrations.registered.size, 7),
        end_day=end_day,
        params=params,
    )
    done("events")
    costs = draw_costs(
        streams["costs"],
        created=customers.created,
        channel=customers.channel,
        customer_ids=customers.ids,
        ticket_opened=tickets.opened,
        first_day=first_day,
        end_day=end_day,
        params=params,
    )
    done("costs")
    tables = {
        "customers": customers.table,
        "products": catalogue.table,
        "orders": fulfilment.table,
        "order_lines": baskets.table,
        "subscriptions": subscriptions,
        "subscription_mrr": mrr,
        "product_registrations": registrations.table,
        "tickets": tickets.table,
        "survey_responses": surveys,
        "events": events,
        "costs": costs,
    }
    truth = truth_document(params, n_customers=n_customers, seed=seed, as_of=as_of)
    truth["surveys"] = feedback.truth
    customer_truth = purchases.truth.add_column(0, "customer_id", customers.ids)
    return SyntheticStore(tables=tables, truth=truth, customer_truth=customer_truth)
