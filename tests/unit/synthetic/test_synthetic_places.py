"""Customers' time zones and locales: plausible for their country, about 5 % unknown, and drawn from
a stream of their own (every other generated value is what it was before they existed)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
import pyarrow.compute as pc

from aftersales.core.contract import normalise_text
from aftersales.core.synthetic import SyntheticStore
from aftersales.core.synthetic.acquisition import COUNTRIES, draw_customers
from aftersales.core.synthetic.params import StoreParams
from aftersales.core.synthetic.places import REGIONS, UNKNOWN_SHARE


def _pairs(store: SyntheticStore) -> list[tuple[str, str | None, str | None]]:
    c = store.tables["customers"]
    return list(zip(c["country"].to_pylist(), c["timezone"].to_pylist(), c["locale"].to_pylist(), strict=True))


def test_every_zone_and_locale_is_valid_and_already_normal() -> None:
    for regions in REGIONS.values():
        for zone, _, spoken in regions:
            assert normalise_text("timezone", zone) == zone
            for locale, _ in spoken:
                assert normalise_text("locale", locale) == locale
    assert set(REGIONS) == set(COUNTRIES)
    for country, regions in REGIONS.items():
        assert abs(sum(share for _, share, _ in regions) - 1) < 1e-9, country
        for zone, _, spoken in regions:
            assert abs(sum(share for _, share in spoken) - 1) < 1e-9, (country, zone)


def test_zones_and_locales_belong_to_the_country(synthetic_store: SyntheticStore) -> None:
    allowed = {
        country: ({zone for zone, _, _ in regions}, {loc for _, _, spoken in regions for loc, _ in spoken})
        for country, regions in REGIONS.items()
    }
    for country, zone, locale in _pairs(synthetic_store):
        zones, locales = allowed[country]
        assert zone is None or zone in zones, (country, zone)
        assert locale is None or locale in locales, (country, locale)


def test_us_customers_spread_over_the_us_zones_and_quebec_speaks_french(synthetic_store: SyntheticStore) -> None:
    pairs = _pairs(synthetic_store)
    us = Counter(zone for country, zone, _ in pairs if country == "US" and zone is not None)
    total = sum(us.values())
    assert us["America/New_York"] / total > 0.42 and us["America/Chicago"] / total > 0.24
    assert us["America/Los_Angeles"] / total > 0.12 and us["America/Denver"] / total > 0.03
    french = {zone for country, zone, locale in pairs if country == "CA" and locale == "fr_CA"}
    assert "America/Toronto" in french and "America/Vancouver" not in french
    assert {zone for country, zone, _ in pairs if country == "DE"} == {"Europe/Berlin", None}


def test_about_five_percent_are_unknown(synthetic_store: SyntheticStore) -> None:
    c = synthetic_store.tables["customers"]
    for column in ("timezone", "locale"):
        share = c[column].null_count / c.num_rows
        assert abs(share - UNKNOWN_SHARE) < 0.01, (column, share)  # 20,000 customers: sd 0.0015
    both = pc.sum(pc.and_(c["timezone"].is_null(), c["locale"].is_null())).as_py() / c.num_rows
    assert both < 0.01  # drawn independently: about 0.25 %


def test_the_places_stream_leaves_every_other_column_as_it_was() -> None:
    """Two different places streams: zones and locales differ, every other customer column is equal."""
    a = draw_customers(np.random.default_rng(7), 3_000, 19_000, 19_365, StoreParams(), places=np.random.default_rng(1))
    b = draw_customers(np.random.default_rng(7), 3_000, 19_000, 19_365, StoreParams(), places=np.random.default_rng(2))
    others = [n for n in a.table.column_names if n not in ("timezone", "locale")]
    assert a.table.select(others).equals(b.table.select(others))
    assert np.array_equal(a.created, b.created) and np.array_equal(a.channel, b.channel)
    assert not a.table["timezone"].equals(b.table["timezone"])


def test_same_seed_same_places() -> None:
    from aftersales.core.synthetic import generate_store

    x = generate_store(500, seed=3, as_of=date(2025, 1, 1)).tables["customers"]
    y = generate_store(500, seed=3, as_of=date(2025, 1, 1)).tables["customers"]
    assert x.select(["timezone", "locale"]).equals(y.select(["timezone", "locale"]))
