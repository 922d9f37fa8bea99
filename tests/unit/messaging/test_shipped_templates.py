"""The e-mail templates shipped in aftersales/templates/email: every journey template's e-mail exists in
English and German, compiles, renders for a customer we know much about and for one we know nothing
about, personalises from the profile, and shows the unsubscribe and preference links it is given."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from aftersales.core.messaging.context import personalisation
from aftersales.core.messaging.templates import PACKAGE_TEMPLATES, TemplateCatalog, render_email

NAMES = [
    "thank-you",
    "education-tips",
    "registration-warranty",
    "maintenance-reminder",
    "review-request",
    "win-back",
    "upgrade-offer",
    "renewal-reminder",
    "detractor-apology",
]
JOURNEYS = PACKAGE_TEMPLATES.parent / "journeys"

CATALOG = TemplateCatalog.from_package()

KNOWN = personalisation(
    {"customer_id": "c1", "name": "Ana Ruiz", "country": "CH"},
    {
        "clv_tier": "above_average",
        "categories_bought": ["espresso_machines", "grinders", "kettles"],
        "products_registered": ["BARISTA-PRO"],
        "next_maintenance_due_on": date(2026, 6, 1),
        "warranty_ends_on": date(2027, 1, 31),
    },
    trigger={"order_id": "o-1", "product_id": "BARISTA-PRO", "serial_number": "SN-77"},
    loyalty_balance=1250,
    extra={
        "unsubscribe_url": "https://shop.example/u/TOKEN-U",
        "preferences_url": "https://shop.example/p/TOKEN-P",
        "brand": "Kaffee & Co",
        "shop_url": "https://shop.example/",
        "review_url": "https://shop.example/review/o-1",
        "coupon_code": "WELCOME10",
        "renewal_date": date(2026, 7, 1),
        "plan_name": "Beans monthly",
        "renewal_amount": 24.9,
        "currency": "CHF",
    },
)
UNKNOWN = personalisation({"customer_id": "c2"}, None)


def test_every_template_compiles():
    CATALOG.check()


def test_every_journey_template_has_english_and_german():
    assert set(NAMES) <= set(CATALOG.names())
    for name in NAMES:
        assert {"en", "de"} <= set(CATALOG.locales(name)), name


def test_every_email_a_shipped_journey_sends_exists():
    used = {m for p in JOURNEYS.glob("*.yaml") for m in re.findall(r"template:\s*([a-z0-9_-]+)", p.read_text())}
    assert used <= set(CATALOG.names()), sorted(used - set(CATALOG.names()))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("locale", ["en", "de_CH"])
def test_renders_for_known_and_unknown_customers(name, locale):
    full = render_email(CATALOG.resolve(name, locale), KNOWN, locale=locale)
    bare = render_email(CATALOG.resolve(name, locale), UNKNOWN, locale=locale)
    for r in (full, bare):
        assert r.subject and "\n" not in r.subject
        assert "None" not in r.text and "None" not in r.html and "{{" not in r.html
        assert "<style" not in r.html or "@media" in r.html  # rules inlined; only media queries remain
    assert "Ana" in full.subject + full.text and "Ana" not in bare.text
    assert "Kaffee &amp; Co" in full.html
    assert "https://shop.example/u/TOKEN-U" in full.html and "(https://shop.example/u/TOKEN-U)" in full.text
    assert "https://shop.example/p/TOKEN-P" in full.html
    assert "TOKEN" not in bare.html


@pytest.mark.parametrize(
    ("name", "english", "german"),
    [
        ("maintenance-reminder", "June 1, 2026", "1. Juni 2026"),
        ("registration-warranty", "January 31, 2027", "31. Januar 2027"),
        ("registration-warranty", "SN-77", "SN-77"),
        ("win-back", "1,250 points", "1’250 Punkte"),
        ("win-back", "WELCOME10", "WELCOME10"),
        ("education-tips", "Espresso machine:", "Espressomaschine:"),
        ("thank-you", "most loyal customers", "treuesten"),
        ("renewal-reminder", "CHF", "CHF"),
        ("upgrade-offer", "BARISTA-PRO", "BARISTA-PRO"),
    ],
)
def test_personalised_and_localised(name, english, german):
    en = render_email(CATALOG.resolve(name, "en"), KNOWN, locale="en").text
    de = render_email(CATALOG.resolve(name, "de_CH"), KNOWN, locale="de_CH").text.replace("'", "’")
    assert english in en and german in de


def test_loyalty_balance_shows_only_when_known():
    bare = render_email(CATALOG.resolve("win-back", "en"), UNKNOWN, locale="en").text
    assert "points" not in bare


def test_the_package_data_is_inside_the_package():
    assert PACKAGE_TEMPLATES.is_dir() and Path(__file__).exists()
    assert (PACKAGE_TEMPLATES / "_layout" / "_base.html").is_file()
