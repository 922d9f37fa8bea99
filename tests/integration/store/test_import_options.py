"""Import conveniences (issue 11, items 9-10): survey scales, --assume-timezone, date-only values,
one file column mapped to two contract columns, and Shopify refunds."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aftersales import bootstrap
from aftersales.adapters.sources.shopify import customer_id_for_email
from aftersales.core.errors import UnusableInputError


def test_survey_scores_off_their_kind_scale_are_rejected(store_url, probe, write_csv):
    rows = [
        {"response_id": f"r{i}", "survey_id": "s", "kind": kind, "score": score, "responded_at": "2024-03-01T10:00Z"}
        for i, (kind, score) in enumerate(
            [("csat", "9"), ("nps", "42"), ("ces", "7"), ("nps", "0"), ("csat", "0"), ("ces", "8"), ("csat", "5")], 1
        )
    ]
    path = write_csv("s.csv", rows)
    res = bootstrap.import_file("survey_responses", str(path), db=store_url)
    assert (res.inserted, res.rejected) == (3, 4)
    assert sorted(r["response_id"] for r in probe.rows("survey_responses")) == ["r3", "r4", "r7"]
    assert {r["row"]: r["reason"] for r in probe.rejects(path)} == {
        "1": "score: csat scores run from 1 to 5, got 9",
        "2": "score: nps scores run from 0 to 10, got 42",
        "5": "score: csat scores run from 1 to 5, got 0",
        "6": "score: ces scores run from 1 to 7, got 8",
    }


def _orders(write_csv, stamps: list[str]):
    rows = [
        {"order_id": f"o{i}", "customer_id": "c1", "ordered_at": s, "revenue": "5"} for i, s in enumerate(stamps, 1)
    ]
    return write_csv("o.csv", rows)


def test_assume_timezone_reads_zoneless_time_stamps_and_is_recorded(store_url, probe, write_csv):
    stamps = ["2024-01-15 10:00:00", "2024-07-15T10:00", "2024-03-31 02:30", "2024-01-15T10:00:00Z", "2024-01-15"]
    path = _orders(write_csv, stamps)
    res = bootstrap.import_file(
        "orders", str(path), db=store_url, create_missing_customers=True, assume_timezone="Europe/Oslo"
    )
    assert (res.inserted, res.rejected, res.assumed_timezone) == (4, 1, "Europe/Oslo")
    got = {o["order_id"]: o["ordered_at"] for o in probe.rows("orders")}
    assert got == {
        "o1": datetime(2024, 1, 15, 9, 0, tzinfo=UTC),  # winter: +01:00
        "o2": datetime(2024, 7, 15, 8, 0, tzinfo=UTC),  # summer: +02:00
        "o4": datetime(2024, 1, 15, 10, 0, tzinfo=UTC),  # a zone in the value wins
        "o5": datetime(2024, 1, 14, 23, 0, tzinfo=UTC),  # a date: midnight in the assumed zone
    }
    [rejected] = probe.rejects(path)
    assert rejected["reason"] == (
        "ordered_at: not a valid local time in Europe/Oslo (a daylight-saving change): '2024-03-31 02:30'"
    )


def test_without_assume_timezone_zoneless_stamps_are_rejected_and_dates_are_utc_days(store_url, probe, write_csv):
    path = _orders(write_csv, ["2024-01-15 10:00:00", "2024-01-15"])
    res = bootstrap.import_file("orders", str(path), db=store_url, create_missing_customers=True)
    assert (res.inserted, res.rejected, res.assumed_timezone) == (1, 1, None)
    assert probe.rows("orders")[0]["ordered_at"] == datetime(2024, 1, 15, tzinfo=UTC)  # reporting zone: UTC
    assert probe.rejects(path)[0]["reason"] == "ordered_at: no time zone in '2024-01-15 10:00:00'"


def test_an_unknown_zone_is_unusable_input(store_url, probe, write_csv):
    path = _orders(write_csv, ["2024-01-15 10:00:00"])
    with pytest.raises(UnusableInputError, match="--assume-timezone 'Mars/Olympus': not a time zone name"):
        bootstrap.import_file("orders", str(path), db=store_url, assume_timezone="Mars/Olympus")
    assert probe.count("orders") == 0


def test_one_file_column_feeds_two_contract_columns(store_url, probe, write_csv):
    path = write_csv("c.csv", [{"Customer Email": "ann@example.com", "Land": "NO"}])
    mapping = {"Customer Email": "customer_id,email", "Land": "country"}
    res = bootstrap.import_file("customers", str(path), db=store_url, mapping=mapping)
    assert (res.inserted, res.rejected, res.ignored_columns) == (1, 0, ())
    c = probe.rows("customers")[0]
    assert (c["customer_id"], c["email"], c["country"]) == ("ann@example.com", "ann@example.com", "NO")


def test_two_file_columns_for_one_contract_column_are_refused_clearly(store_url, probe, write_csv):
    path = write_csv("c.csv", [{"customer_id": "c1", "email": "a@x", "Customer Email": "b@x"}])
    with pytest.raises(UnusableInputError, match=r"contract column 'email' would come from several file columns"):
        bootstrap.import_file("customers", str(path), db=store_url, mapping={"Customer Email": "email"})
    assert probe.count("customers") == 0


SHOPIFY = [
    "Name",
    "Email",
    "Financial Status",
    "Paid at",
    "Fulfillment Status",
    "Subtotal",
    "Refunded Amount",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
]


def test_shopify_refunds_and_paid_at(tmp_path, store_url, probe):
    def order(name: str, financial: str, paid: str, subtotal: str, refunded: str) -> dict[str, str]:
        return {
            "Name": name,
            "Email": "ann@example.com",
            "Financial Status": financial,
            "Paid at": paid,
            "Fulfillment Status": "",
            "Subtotal": subtotal,
            "Refunded Amount": refunded,
            "Created at": "2024-03-01 10:00:00 +0100",
            "Lineitem quantity": "1",
            "Lineitem name": "Mug",
            "Lineitem price": subtotal,
        }

    rows = [
        order("#1", "refunded", "2024-03-01 10:05:00 +0100", "40.00", "40.00"),
        order("#2", "partially_refunded", "2024-03-01 10:05:00 +0100", "40.00", "15.50"),
        order("#3", "pending", "2024-03-02 08:00:00 +0100", "40.00", ""),
        order("#4", "pending", "", "40.00", ""),
        order("#5", "partially_refunded", "", "40.00", "lots"),
        order("#6", "voided", "", "40.00", ""),
    ]
    path = tmp_path / "orders_export.csv"
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=SHOPIFY)
        w.writeheader()
        w.writerows(rows)
    res = bootstrap.import_file("orders", str(path), db=store_url, fmt="shopify")
    assert (res.read, res.inserted, res.rejected) == (6, 5, 1)
    got = {o["order_id"]: (o["status"], o["revenue"], o["customer_id"]) for o in probe.rows("orders")}
    ann = customer_id_for_email("ann@example.com")
    assert got == {
        "shopify-#1": ("returned", Decimal("40.00"), ann),  # a full refund is a return; revenue kept
        "shopify-#2": ("paid", Decimal("24.50"), ann),  # a partial refund reduces revenue
        "shopify-#3": ("paid", Decimal("40.00"), ann),  # Paid at set: paid
        "shopify-#4": ("placed", Decimal("40.00"), ann),
        "shopify-#6": ("cancelled", Decimal("40.00"), ann),
    }
    assert probe.rejects(path)[0]["reason"] == "Refunded Amount: not a number: 'lots'"
