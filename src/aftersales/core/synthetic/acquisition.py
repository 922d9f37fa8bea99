"""Customers: acquired over the history window with trend, yearly and weekly seasonality."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from aftersales.core.synthetic.arrays import contract_table, format_ids, key_width, timestamps
from aftersales.core.synthetic.params import StoreParams
from aftersales.core.synthetic.places import draw_places

__all__ = ["Customers", "acquisition_weights", "draw_customers"]

# Relative acquisition intensity by calendar month (Jan..Dec): quiet summer, Nov/Dec peak.
MONTH_FACTOR = np.array([0.90, 0.82, 0.92, 0.95, 1.00, 0.92, 0.85, 0.88, 1.00, 1.05, 1.55, 1.45])
# Monday..Sunday (1970-01-01 was a Thursday).
WEEKDAY_FACTOR = np.array([1.08, 1.04, 1.02, 1.00, 0.96, 0.92, 0.98])
# Hour-of-day profile in UTC (most buyers in Europe and the Americas).
HOUR_WEIGHTS = np.array(
    [2, 1.5, 1, 1, 1, 1.5, 2.5, 4, 5, 5.5, 6, 6, 6, 6, 6, 6, 6, 6.5, 7, 7.5, 7, 6, 4.5, 3], dtype=np.float64
)
COUNTRIES = ("US", "GB", "DE", "FR", "NL", "SE", "CA", "AU")
COUNTRY_WEIGHTS = np.array([0.38, 0.14, 0.14, 0.09, 0.06, 0.05, 0.08, 0.06])
FIRST_NAMES = ("Alex", "Sam", "Maria", "Jonas", "Emma", "Liam", "Noah", "Olivia", "Ines", "Yuki", "Omar", "Ada")
LAST_NAMES = ("Smith", "Müller", "García", "Martin", "Jansen", "Berg", "Rossi", "Tanaka", "Khan", "Novak")


@dataclass(frozen=True)
class Customers:
    """Per-customer arrays (index i is customer ``ids[i]``); times are float days since the epoch."""

    ids: pa.StringArray
    created: np.ndarray
    channel: np.ndarray  # index into StoreParams.channels
    table: pa.Table


def acquisition_weights(first_day: int, n_days: int) -> np.ndarray:
    """Probability that an acquisition falls on each day: growth × month × weekday, normalised.

    Black Friday week (the last days of November) gets a further 1.8× lift.

    >>> w = acquisition_weights(19_000, 365)
    >>> round(float(w.sum()), 12), bool(w[-1] > w[0])
    (1.0, True)
    """
    days = np.arange(first_day, first_day + n_days)
    dates = days.astype("datetime64[D]")
    month = dates.astype("datetime64[M]").astype(np.int64) % 12
    day_of_month = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    weekday = (days + 3) % 7
    growth = 1.0 + 0.6 * np.arange(n_days) / max(n_days - 1, 1)
    black_friday = np.where((month == 10) & (day_of_month >= 23), 1.8, 1.0)
    w = growth * MONTH_FACTOR[month] * WEEKDAY_FACTOR[weekday] * black_friday
    weights: np.ndarray = w / w.sum()
    return weights


def draw_customers(
    rng: np.random.Generator,
    n: int,
    first_day: int,
    end_day: int,
    params: StoreParams,
    *,
    places: np.random.Generator,
) -> Customers:
    """Draw ``n`` customers acquired in ``[first_day, end_day)``, sorted by acquisition time.

    Time zones and locales come from ``places``, a stream of their own (``places.py``), so that
    ``rng`` is drawn exactly as it was before customers had them."""
    n_days = end_day - first_day
    day = first_day + rng.choice(n_days, size=n, p=acquisition_weights(first_day, n_days))
    hour = rng.choice(24, size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    created = np.sort(day + (hour + rng.random(n)) / 24.0)
    channel_names = list(params.channels)
    channel_p = np.array(list(params.channels.values()))
    channel = rng.choice(len(channel_names), size=n, p=channel_p / channel_p.sum())

    ids = format_ids("C", np.arange(1, n + 1), key_width(n, 7))
    email = pc.binary_join_element_wise(pc.utf8_lower(ids), "@example.com", "")
    has_phone = rng.random(n) < 0.55
    phone = format_ids("+1555", rng.integers(0, 10_000_000, size=n), 7)
    names = pa.array([f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES])
    name = names.take(pa.array(rng.integers(0, len(names), size=n)))
    country_index = rng.choice(len(COUNTRIES), size=n, p=COUNTRY_WEIGHTS)
    country = pa.array(COUNTRIES).take(pa.array(country_index))
    email_consent = rng.random(n) < 0.62
    timezone, locale = draw_places(places, country_index, COUNTRIES)
    table = contract_table(
        "customers",
        {
            "customer_id": ids,
            "email": email,
            "phone": pc.if_else(pa.array(has_phone), phone, pa.scalar(None, pa.string())),
            "name": name,
            "country": country,
            "acquisition_channel": pa.array(channel_names).take(pa.array(channel)),
            "created_at": timestamps(created),
            "email_consent": email_consent,
            "sms_consent": has_phone & (rng.random(n) < 0.45),
            "timezone": timezone,
            "locale": locale,
        },
    )
    return Customers(ids=ids, created=created, channel=channel, table=table)
