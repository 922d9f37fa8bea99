"""Customers' time zones and locales, plausible for their country.

Each country is a list of regions: an IANA zone with its share of the country's customers (roughly
its share of the population) and the locales spoken there with their shares. A customer's region and
locale are drawn together, so French-speaking Canadians live in Quebec's zone (``America/Toronto``),
not in Vancouver's. ``UNKNOWN_SHARE`` of zones and, independently, of locales are left null, so that
the business defaults (``AFTERSALES_DEFAULT_TIMEZONE`` / ``_LOCALE``) are exercised.

These columns are drawn from a random stream of their own (``generate_store`` hands it over), so
adding them left every other generated figure as it was.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["REGIONS", "UNKNOWN_SHARE", "draw_places"]

UNKNOWN_SHARE = 0.05

Region = tuple[str, float, tuple[tuple[str, float], ...]]
"""(IANA zone, share of the country's customers, ((locale, share of the region's customers), ...))."""

REGIONS: dict[str, tuple[Region, ...]] = {
    "US": (
        ("America/New_York", 0.47, (("en_US", 0.88), ("es_US", 0.12))),
        ("America/Chicago", 0.29, (("en_US", 0.86), ("es_US", 0.14))),
        ("America/Denver", 0.05, (("en_US", 0.85), ("es_US", 0.15))),
        ("America/Phoenix", 0.02, (("en_US", 0.80), ("es_US", 0.20))),
        ("America/Los_Angeles", 0.16, (("en_US", 0.80), ("es_US", 0.20))),
        ("America/Anchorage", 0.005, (("en_US", 1.0),)),
        ("Pacific/Honolulu", 0.005, (("en_US", 1.0),)),
    ),
    "GB": (("Europe/London", 1.0, (("en_GB", 0.97), ("cy_GB", 0.03))),),
    "DE": (("Europe/Berlin", 1.0, (("de_DE", 0.94), ("en_DE", 0.04), ("tr_DE", 0.02))),),
    "FR": (("Europe/Paris", 1.0, (("fr_FR", 0.97), ("en_FR", 0.03))),),
    "NL": (("Europe/Amsterdam", 1.0, (("nl_NL", 0.91), ("en_NL", 0.09))),),
    "SE": (("Europe/Stockholm", 1.0, (("sv_SE", 0.92), ("en_SE", 0.08))),),
    "CA": (
        ("America/Toronto", 0.62, (("en_CA", 0.62), ("fr_CA", 0.38))),  # Ontario and Quebec
        ("America/Vancouver", 0.13, (("en_CA", 1.0),)),
        ("America/Edmonton", 0.12, (("en_CA", 0.98), ("fr_CA", 0.02))),
        ("America/Winnipeg", 0.04, (("en_CA", 0.96), ("fr_CA", 0.04))),
        ("America/Regina", 0.03, (("en_CA", 1.0),)),
        ("America/Halifax", 0.05, (("en_CA", 0.90), ("fr_CA", 0.10))),  # incl. New Brunswick
        ("America/St_Johns", 0.01, (("en_CA", 1.0),)),
    ),
    "AU": (
        ("Australia/Sydney", 0.32, (("en_AU", 1.0),)),
        ("Australia/Melbourne", 0.26, (("en_AU", 1.0),)),
        ("Australia/Brisbane", 0.21, (("en_AU", 1.0),)),
        ("Australia/Perth", 0.11, (("en_AU", 1.0),)),
        ("Australia/Adelaide", 0.07, (("en_AU", 1.0),)),
        ("Australia/Hobart", 0.02, (("en_AU", 1.0),)),
        ("Australia/Darwin", 0.01, (("en_AU", 1.0),)),
    ),
}


def draw_places(
    rng: np.random.Generator, country_index: np.ndarray, countries: tuple[str, ...]
) -> tuple[pa.StringArray, pa.StringArray]:
    """(timezone, locale) per customer, where customer ``i`` lives in ``countries[country_index[i]]``.

    A region and a locale are drawn jointly for each country's customers (share = region share ×
    locale share), then ``UNKNOWN_SHARE`` of each column is set to null.

    >>> tz, loc = draw_places(np.random.default_rng(1), np.array([2, 2, 0]), ("US", "GB", "DE"))
    >>> tz.to_pylist(), loc.to_pylist()
    (['Europe/Berlin', 'Europe/Berlin', 'America/Chicago'], ['en_DE', 'de_DE', 'en_US'])
    """
    zones = sorted({zone for c in countries for zone, _, _ in REGIONS[c]})
    locales = sorted({loc for c in countries for _, _, spoken in REGIONS[c] for loc, _ in spoken})
    zone_ix = np.zeros(country_index.size, dtype=np.int64)
    locale_ix = np.zeros(country_index.size, dtype=np.int64)
    for c, country in enumerate(countries):
        members = np.flatnonzero(country_index == c)
        if members.size == 0:
            continue
        pairs = [
            (zones.index(zone), locales.index(loc), share * loc_share)
            for zone, share, spoken in REGIONS[country]
            for loc, loc_share in spoken
        ]
        p = np.array([w for _, _, w in pairs])
        pick = rng.choice(len(pairs), size=members.size, p=p / p.sum())
        zone_ix[members] = np.array([z for z, _, _ in pairs])[pick]
        locale_ix[members] = np.array([loc for _, loc, _ in pairs])[pick]
    zone_unknown = rng.random(country_index.size) < UNKNOWN_SHARE
    locale_unknown = rng.random(country_index.size) < UNKNOWN_SHARE
    timezone = pa.array(zones, pa.string()).take(pa.array(zone_ix, mask=zone_unknown))
    locale = pa.array(locales, pa.string()).take(pa.array(locale_ix, mask=locale_unknown))
    return timezone, locale
