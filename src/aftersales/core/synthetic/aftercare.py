"""After the sale: product registrations and support tickets.

* A delivered unit of a registrable product (machines, grinders, kettles) is registered with
  probability 0.45, Exp(mean 4 days) after delivery.
* An order causes a ticket with probability 4 %, plus 25 points when delivery was late (topic
  ``shipping``) and 50 points when it was returned (topic ``returns``); a further 10 % of tickets are
  how-to questions about registered products without an order. Resolution takes LogNormal(ln 20 h,
  1.0); tickets not resolved by the end are ``open`` or ``pending``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from aftersales.core.synthetic.arrays import contract_table, format_ids, key_width, timestamps

__all__ = ["Registrations", "Tickets", "draw_registrations", "draw_tickets"]

TICKET_CATEGORIES = ("shipping", "returns", "defect", "how-to", "billing")
TICKET_CHANNELS = ("email", "chat", "phone")


@dataclass(frozen=True)
class Registrations:
    customer: np.ndarray
    product: np.ndarray
    registered: np.ndarray  # float days
    table: pa.Table


@dataclass(frozen=True)
class Tickets:
    order: np.ndarray  # −1 when not about an order
    customer: np.ndarray
    category: np.ndarray  # index into TICKET_CATEGORIES
    opened: np.ndarray
    resolved: np.ndarray  # NaN while unresolved
    table: pa.Table


def draw_registrations(
    rng: np.random.Generator,
    *,
    line_order: np.ndarray,
    line_product: np.ndarray,
    registrable: np.ndarray,
    order_customer: np.ndarray,
    order_time: np.ndarray,
    delivered: np.ndarray,
    customer_ids: pa.StringArray,
    product_ids: pa.StringArray,
    end_day: float,
) -> Registrations:
    at = delivered[line_order] + rng.exponential(4.0, size=line_order.size)
    keep = registrable[line_product] & (rng.random(line_order.size) < 0.45) & (at < end_day)  # NaN < x is False
    idx = np.flatnonzero(keep)
    idx = idx[np.argsort(at[idx], kind="stable")]
    n = idx.size
    customer = order_customer[line_order[idx]]
    product = line_product[idx]
    table = contract_table(
        "product_registrations",
        {
            "registration_id": format_ids("G", np.arange(1, n + 1), key_width(n, 7)),
            "customer_id": customer_ids.take(pa.array(customer)),
            "product_id": product_ids.take(pa.array(product)),
            "serial_number": format_ids("SN", rng.permutation(n) + 1, 10),
            "purchased_at": timestamps(order_time[line_order[idx]]),
            "registered_at": timestamps(at[idx]),
        },
    )
    return Registrations(customer=customer, product=product, registered=at[idx], table=table)


def draw_tickets(
    rng: np.random.Generator,
    *,
    order_customer: np.ndarray,
    order_time: np.ndarray,
    delivered: np.ndarray,
    returned: np.ndarray,
    late: np.ndarray,
    first_product: np.ndarray,
    registrations: Registrations,
    customer_ids: pa.StringArray,
    order_ids_width: int,
    product_ids: pa.StringArray,
    end_day: float,
) -> Tickets:
    n_orders = order_time.size
    was_returned = ~np.isnan(returned)
    p = 0.04 + 0.25 * late + 0.50 * was_returned
    has = rng.random(n_orders) < p
    o = np.flatnonzero(has)
    category = np.where(
        was_returned[o], 1, np.where(late[o], 0, rng.choice([2, 3, 4], size=o.size, p=[0.45, 0.35, 0.20]))
    )
    base = np.where(np.isnan(delivered[o]), order_time[o] + 1.0, delivered[o])
    opened = np.where(category == 0, order_time[o] + 5.2 + rng.exponential(1.0, o.size), base)
    opened = np.where(category == 1, returned[o] - rng.uniform(0.5, 2.0, o.size), opened + rng.exponential(6.0, o.size))

    n_reg = registrations.registered.size
    r = rng.choice(n_reg, size=min(n_reg, o.size // 9), replace=False) if n_reg else np.zeros(0, dtype=np.int64)
    how_to_opened = registrations.registered[r] + rng.exponential(20.0, size=r.size)

    order = np.concatenate((o, np.full(r.size, -1)))
    customer = np.concatenate((order_customer[o], registrations.customer[r]))
    product = np.concatenate((first_product[o], registrations.product[r]))
    category = np.concatenate((category, np.full(r.size, 3)))
    opened = np.concatenate((opened, how_to_opened))
    keep = np.flatnonzero(opened < end_day)
    keep = keep[np.argsort(opened[keep], kind="stable")]
    order, customer, product, category, opened = (a[keep] for a in (order, customer, product, category, opened))

    n = keep.size
    resolved = opened + np.exp(np.log(20.0 / 24.0) + rng.normal(0.0, 1.0, size=n))
    done = resolved < end_day
    status = np.where(done, np.where(resolved < end_day - 4.0, 3, 2), rng.choice([0, 1], size=n))
    has_order = order >= 0
    order_ids = format_ids("O", np.where(has_order, order + 1, 0), order_ids_width)
    table = contract_table(
        "tickets",
        {
            "ticket_id": format_ids("T", np.arange(1, n + 1), key_width(n, 7)),
            "customer_id": customer_ids.take(pa.array(customer)),
            "order_id": pc.if_else(pa.array(has_order), order_ids, pa.scalar(None, pa.string())),
            "product_id": product_ids.take(pa.array(product)),
            "category": pa.array(TICKET_CATEGORIES).take(pa.array(category)),
            "channel": pa.array(TICKET_CHANNELS).take(pa.array(rng.choice(3, size=n, p=[0.5, 0.35, 0.15]))),
            "status": pa.array(("open", "pending", "solved", "closed")).take(pa.array(status)),
            "opened_at": timestamps(opened),
            "resolved_at": timestamps(resolved, done),
        },
    )
    return Tickets(
        order=order,
        customer=customer,
        category=category,
        opened=opened,
        resolved=np.where(done, resolved, np.nan),
        table=table,
    )
