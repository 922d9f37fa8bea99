"""Order lines and order money: each order's Gamma-Gamma value is spread over 1–3 lines.

An order of value z with discount rate d has gross value g = z / (1 − d). The gross is split over
its lines with Dirichlet(1, ..., 1) shares; each line buys a product whose list price is near its
share (a log-normal nudge lets cheaper products come in quantities), and the charged unit price is
share / quantity rounded to cents. Then, exactly as the contract defines it,

    revenue = Σ quantity × unit_price − discount,    discount = round(d × Σ quantity × unit_price, 2)

so revenue equals z up to cent rounding and Gamma-Gamma holds for ``orders.revenue``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from aftersales.core.synthetic.arrays import contract_table, format_ids, money
from aftersales.core.synthetic.catalogue import Catalogue

__all__ = ["Baskets", "draw_baskets"]

LINE_COUNT_P = np.array([0.6, 0.3, 0.1])  # 1, 2 or 3 lines
DISCOUNT_RATES = np.array([0.0, 0.10, 0.15, 0.20])
DISCOUNT_P = np.array([0.80, 0.10, 0.06, 0.04])
MAX_QUANTITY = 12


@dataclass(frozen=True)
class Baskets:
    """Per order: money; per line: the order index and product index."""

    gross: np.ndarray
    discount: np.ndarray
    revenue: np.ndarray
    cost_of_goods: np.ndarray
    line_order: np.ndarray
    line_product: np.ndarray
    first_product: np.ndarray  # product index of each order's first line
    table: pa.Table


def _group_sum(groups: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(groups, weights=values, minlength=n)


def draw_baskets(rng: np.random.Generator, value: np.ndarray, catalogue: Catalogue, order_width: int) -> Baskets:
    """Lines for orders with values ``value`` (order index = position); order ids are ``O`` + index + 1."""
    n = value.size
    k = rng.choice(3, size=n, p=LINE_COUNT_P) + 1
    rate = rng.choice(DISCOUNT_RATES, size=n, p=DISCOUNT_P)
    gross_target = value / (1.0 - rate)

    line_order = np.repeat(np.arange(n), k)
    start = np.cumsum(k) - k
    line_number = np.arange(line_order.size) - np.repeat(start, k) + 1
    w = rng.standard_exponential(line_order.size)
    target = gross_target[line_order] * w / _group_sum(line_order, w, n)[line_order]

    nudged = target * np.exp(rng.normal(0.0, 0.35, size=target.size))
    product = np.clip(np.searchsorted(catalogue.price, nudged) - 1, 0, catalogue.price.size - 1)
    quantity = np.clip(np.rint(target / catalogue.price[product]), 1, MAX_QUANTITY).astype(np.int64)
    unit_price = np.maximum(money(target / quantity), 0.01)

    gross = money(_group_sum(line_order, quantity * unit_price, n))
    discount = money(gross * rate)
    revenue = money(gross - discount)
    cogs = money(_group_sum(line_order, quantity * catalogue.unit_cost[product], n))

    table = contract_table(
        "order_lines",
        {
            "order_id": format_ids("O", line_order + 1, order_width),
            "line_number": line_number,
            "product_id": catalogue.ids.take(pa.array(product)),
            "quantity": quantity,
            "unit_price": unit_price,
            "discount": np.zeros(line_order.size),
        },
    )
    return Baskets(
        gross=gross,
        discount=discount,
        revenue=revenue,
        cost_of_goods=cogs,
        line_order=line_order,
        line_product=product,
        first_product=product[start],
        table=table,
    )
