"""Each kind of bad row is set aside with its row, reason and original values; the rest is kept."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aftersales import bootstrap


def test_valid_rows_are_stored_in_utc(store_url, probe, write_csv, customers):
    path = write_csv("customers.csv", customers)
    result = bootstrap.import_file("customers", str(path), db=store_url)
    assert (result.read, result.inserted, result.updated, result.rejected) == (3, 3, 0, 0)
    stored = probe.rows("customers")
    assert stored[0]["created_at"] == datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
    assert stored[0]["email_consent"] is False  # the contract default
    assert not (path.parent / "customers.csv.rejected.csv").exists()


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("customer_id", "", "customer_id: missing required field"),
        ("ordered_at", "2024-02-30T10:00:00Z", "ordered_at: not a time stamp: '2024-02-30T10:00:00Z'"),
        ("ordered_at", "2024-03-01 10:00:00", "ordered_at: no time zone in '2024-03-01 10:00:00'"),
        ("revenue", "12,5x", "revenue: not a number: '12,5x'"),
        ("revenue", "-4.00", "revenue: must be >= 0, got '-4.00'"),
        ("status", "lost", "status: must be one of placed, paid, shipped, delivered, returned, cancelled, got 'lost'"),
        (
            "customer_id",
            "nobody",
            "customer_id: unknown customer 'nobody' (import customers first or pass --create-missing-customers)",
        ),
    ],
)
def test_each_kind_of_bad_order_row(store_url, probe, write_csv, customers, field, value, reason):
    bootstrap.import_file("customers", str(write_csv("customers.csv", customers)), db=store_url)
    good = {"order_id": "o1", "customer_id": "c1", "ordered_at": "2024-03-01T10:00:00+01:00", "revenue": "20.00"}
    bad = {**good, "order_id": "o2", "status": "paid", field: value}
    rows = [good, bad, {**good, "order_id": "o3", "revenue": "5"}]
    path = write_csv("orders.csv", rows, fieldnames=["order_id", "customer_id", "status", "ordered_at", "revenue"])
    result = bootstrap.import_file("orders", str(path), db=store_url)
    assert (result.read, result.inserted, result.rejected) == (3, 2, 1)
    assert [r["order_id"] for r in probe.rows("orders")] == ["o1", "o3"]
    [rejected] = probe.rejects(path)
    assert rejected["row"] == "2"
    assert rejected["reason"] == reason
    assert rejected[field] == value and rejected["order_id"] == "o2"  # original values kept


def test_negative_quantity_and_several_problems_in_one_row(store_url, probe, write_csv, customers):
    bootstrap.import_file("customers", str(write_csv("c.csv", customers)), db=store_url)
    bootstrap.import_file("products", str(write_csv("p.csv", [{"product_id": "p1", "price": "9.90"}])), db=store_url)
    bootstrap.import_file(
        "orders",
        str(
            write_csv(
                "o.csv", [{"order_id": "o1", "customer_id": "c1", "ordered_at": "2024-03-01T10:00Z", "revenue": "9"}]
            )
        ),
        db=store_url,
    )
    lines = [
        {"order_id": "o1", "line_number": "1", "product_id": "p1", "quantity": "-2", "unit_price": "9.90"},
        {"order_id": "o1", "line_number": "2", "product_id": "p9", "quantity": "1.5", "unit_price": "abc"},
        {"order_id": "o1", "line_number": "3", "product_id": "p1", "quantity": "1", "unit_price": "9.90"},
    ]
    path = write_csv("lines.csv", lines)
    result = bootstrap.import_file("order_lines", str(path), db=store_url)
    assert (result.inserted, result.rejected) == (1, 2)
    reasons = {r["row"]: r["reason"] for r in probe.rejects(path)}
    assert reasons["1"] == "quantity: must be >= 0, got '-2'"
    assert reasons["2"] == "quantity: not a whole number: '1.5'; unit_price: not a number: 'abc'"
    assert probe.rows("order_lines")[0]["unit_price"] == Decimal("9.90")


def test_unknown_product_is_rejected(store_url, probe, write_csv, customers):
    bootstrap.import_file("customers", str(write_csv("c.csv", customers)), db=store_url)
    regs = [{"registration_id": "r1", "customer_id": "c1", "product_id": "nope", "registered_at": "2024-01-01T00:00Z"}]
    path = write_csv("r.csv", regs)
    result = bootstrap.import_file("product_registrations", str(path), db=store_url)
    assert result.rejected == 1 and probe.count("product_registrations") == 0
    assert probe.rejects(path)[0]["reason"] == "product_id: unknown product 'nope'"


def test_create_missing_customers(store_url, probe, write_csv):
    orders = [{"order_id": "o1", "customer_id": "new", "ordered_at": "2024-03-01T10:00Z", "revenue": "1"}]
    result = bootstrap.import_file(
        "orders", str(write_csv("o.csv", orders)), db=store_url, create_missing_customers=True
    )
    assert (result.inserted, result.rejected, result.created_customers) == (1, 0, 1)
    assert [c["customer_id"] for c in probe.rows("customers")] == ["new"]


def test_conflicting_and_identical_duplicates_inside_a_file(store_url, probe, write_csv, customers):
    rows = [customers[0], customers[1], {**customers[0]}, {**customers[1], "country": "FI"}]
    path = write_csv("dups.csv", rows)
    result = bootstrap.import_file("customers", str(path), db=store_url, batch_size=2)  # across batches too
    assert (result.read, result.inserted, result.duplicates, result.rejected) == (4, 2, 1, 1)
    [rejected] = probe.rejects(path)
    assert rejected["row"] == "4"
    assert rejected["reason"] == "conflicting duplicate: same key (customer_id='c2') as row 2 with other values"
    assert {c["customer_id"]: c["country"] for c in probe.rows("customers")} == {"c1": "NO", "c2": "SE"}


def test_malformed_csv_line_is_rejected(store_url, probe, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("customer_id,country\nc1,NO\nc2,SE,extra\nc3,DK\n")
    result = bootstrap.import_file("customers", str(path), db=store_url)
    assert (result.inserted, result.rejected) == (2, 1)
    [rejected] = probe.rejects(path)
    assert rejected["row"] == "2" and rejected["reason"].startswith("malformed CSV row: expected 2 fields, got 3")
