"""The product catalogue: categories with price ranges, margins, service intervals and warranties."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from aftersales.core.synthetic.arrays import contract_table, format_ids, money

__all__ = ["CATEGORIES", "Catalogue", "Category", "draw_catalogue"]


@dataclass(frozen=True)
class Category:
    name: str
    n_products: int
    price_range: tuple[float, float]
    margin: float  # (price − unit cost) / price
    service_interval_days: int | None  # maintenance cadence (descaling, filters...)
    warranty_days: int
    registrable: bool  # owners register units (warranty, app pairing)


CATEGORIES: tuple[Category, ...] = (
    Category("espresso_machines", 18, (180.0, 1400.0), 0.35, 90, 730, True),
    Category("grinders", 12, (60.0, 450.0), 0.40, 180, 730, True),
    Category("kettles", 10, (25.0, 140.0), 0.45, 120, 365, True),
    Category("water_filters", 8, (8.0, 45.0), 0.60, None, 0, False),
    Category("coffee_beans", 40, (7.0, 32.0), 0.50, None, 0, False),
    Category("accessories", 30, (5.0, 90.0), 0.55, None, 0, False),
    Category("spare_parts", 24, (3.0, 120.0), 0.50, None, 90, False),
)


@dataclass(frozen=True)
class Catalogue:
    """Products sorted by price (so a price can be looked up with ``searchsorted``)."""

    ids: pa.StringArray
    price: np.ndarray
    unit_cost: np.ndarray
    category: np.ndarray  # index into CATEGORIES
    registrable: np.ndarray
    table: pa.Table


def draw_catalogue(rng: np.random.Generator) -> Catalogue:
    """Prices log-uniform inside each category's range; products numbered in price order."""
    cat = np.repeat(np.arange(len(CATEGORIES)), [c.n_products for c in CATEGORIES])
    lo = np.log([CATEGORIES[c].price_range[0] for c in cat])
    hi = np.log([CATEGORIES[c].price_range[1] for c in cat])
    price = np.round(np.exp(lo + (hi - lo) * rng.random(cat.size))) - 0.01
    order = np.argsort(price, kind="stable")
    cat, price = cat[order], price[order]
    margin = np.array([CATEGORIES[c].margin for c in cat]) * rng.uniform(0.85, 1.15, cat.size)
    unit_cost = money(price * (1.0 - margin))
    ids = format_ids("P", np.arange(1, cat.size + 1), 4)
    names = [f"{CATEGORIES[c].name.replace('_', ' ').title()} {i:03d}" for i, c in enumerate(cat, 1)]
    interval = [CATEGORIES[c].service_interval_days for c in cat]
    table = contract_table(
        "products",
        {
            "product_id": ids,
            "name": names,
            "category": [CATEGORIES[c].name for c in cat],
            "price": price,
            "unit_cost": unit_cost,
            "service_interval_days": interval,
            "warranty_days": [CATEGORIES[c].warranty_days for c in cat],
        },
    )
    registrable = np.array([CATEGORIES[c].registrable for c in cat])
    return Catalogue(ids=ids, price=price, unit_cost=unit_cost, category=cat, registrable=registrable, table=table)
