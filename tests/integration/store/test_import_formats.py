"""The formats users actually hold: CDNOW transaction logs and Shopify order exports."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from aftersales import bootstrap
from aftersales.adapters.sources.shopify import customer_id_for_email

CDNOW = Path(__file__).resolve().parents[3] / "data" / "cdnow"


def test_cdnow_sample_and_master(store_url, probe):
    sample = bootstrap.import_file("orders", str(CDNOW / "CDNOW_sample.txt"), db=store_url, fmt="cdnow")
    assert (sample.read, sample.inserted, sample.rejected, sample.created_customers) == (6919, 6919, 0, 2357)
    first = probe.rows("orders")[0]
    assert first["order_id"] == "cdnow-00004-19970101-1"
    assert first["ordered_at"] == datetime(1997, 1, 1, tzinfo=UTC)
    assert first["revenue"] == Decimal("29.33")
    again = bootstrap.import_file("orders", str(CDNOW / "CDNOW_sample.txt"), db=store_url, fmt="cdnow")
    assert (again.inserted, again.unchanged) == (0, 6919)


def test_cdnow_master_header_layout(tmp_path, store_url, probe):
    lines = (CDNOW / "CDNOW_master.txt").read_text().splitlines()[:6]
    path = tmp_path / "master.txt"
    path.write_text("\n".join([*lines, " 00099 1997013x  1   1.00"]) + "\n")
    res = bootstrap.import_file("orders", str(path), db=store_url, fmt="cdnow")
    assert (res.read, res.inserted, res.rejected) == (6, 5, 1)
    assert probe.rejects(path)[0]["reason"] == "date: not a YYYYMMDD date: '1997013x'"


SHOPIFY_HEADER = [
    "Name",
    "Email",
    "Financial Status",
    "Fulfillment Status",
    "Accepts Marketing",
    "Currency",
    "Subtotal",
    "Discount Amount",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem sku",
    "Billing Name",
    "Billing Country",
    "Cancelled at",
    "Source",
    "Id",
]


def _shopify(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=SHOPIFY_HEADER, restval="")
        w.writeheader()
        w.writerows(rows)
    return path


def _order(name: str, email: str, when: str, lines: list[tuple[str, str, str, str]], **extra: str) -> list[dict]:
    head = {
        "Name": name,
        "Email": email,
        "Financial Status": "paid",
        "Fulfillment Status": "fulfilled",
        "Accepts Marketing": "yes",
        "Currency": "EUR",
        "Created at": when,
        "Billing Name": "Ann",
        "Billing Country": "NO",
        "Source": "web",
        "Id": name.strip("#") + "00",
        **extra,
    }
    total = sum(abs(int(q)) * float(p) for q, _, p, _ in lines)
    head["Subtotal"] = f"{total:.2f}"
    out = []
    for i, (qty, title, price, sku) in enumerate(lines):
        row = dict(head) if i == 0 else {"Name": name, "Email": email}
        row.update({"Lineitem quantity": qty, "Lineitem name": title, "Lineitem price": price, "Lineitem sku": sku})
        out.append(row)
    return out


def test_shopify_export_maps_customers_orders_lines(tmp_path, store_url, probe):
    rows = [
        *_order(
            "#1001",
            "Ann@Example.com",
            "2024-03-01 10:00:00 -0500",
            [("2", "Mug", "9.50", "MUG-1"), ("1", "Tea", "4.00", "")],
        ),
        *_order("#1002", "ann@example.com", "2024-03-05 09:00:00 +0100", [("1", "Mug", "9.50", "MUG-1")]),
        *_order(
            "#1003",
            "bob@example.com",
            "2024-03-06 09:00:00 +0100",
            [("1", "Mug", "9.50", "MUG-1"), ("-1", "Pot", "30.00", "POT")],
        ),  # bad line: whole order out
        *_order("#1004", "", "2024-03-07 09:00:00 +0100", [("1", "Mug", "9.50", "MUG-1")]),  # no e-mail
    ]
    path = _shopify(tmp_path / "orders_export.csv", rows)
    res = bootstrap.import_file("orders", str(path), db=store_url, fmt="shopify", batch_size=2)
    assert (res.read, res.rejected) == (6, 3)
    assert {k: v.inserted for k, v in res.tables.items()} == {
        "customers": 1,
        "products": 2,
        "orders": 2,
        "order_lines": 3,
    }
    ann = customer_id_for_email("ann@example.com")
    orders = probe.rows("orders")
    assert [(o["order_id"], o["customer_id"], o["status"]) for o in orders] == [
        ("shopify-100100", ann, "shipped"),
        ("shopify-100200", ann, "shipped"),
    ]
    assert orders[0]["ordered_at"] == datetime(2024, 3, 1, 15, 0, tzinfo=UTC)
    assert orders[0]["revenue"] == Decimal("23.00")
    lines = probe.rows("order_lines")
    assert [(x["order_id"], x["line_number"], x["product_id"], x["quantity"]) for x in lines] == [
        ("shopify-100100", 1, "shopify-MUG-1", 2),
        ("shopify-100100", 2, "shopify-Tea", 1),
        ("shopify-100200", 1, "shopify-MUG-1", 1),
    ]
    customer = probe.rows("customers")[0]
    assert (customer["email"], customer["email_consent"], customer["country"]) == (
        "ann@example.com",
        True,
        "NO",
    )  # the latest order wins
    reasons = {r["row"]: r["reason"] for r in probe.rejects(path)}
    assert reasons["5"] == "order_lines: quantity: must be >= 0, got '-1'"
    assert reasons["4"] == "rejected with the rest of its group"
    assert reasons["6"] == "Email: missing (the customer cannot be identified)"
    again = bootstrap.import_file("orders", str(path), db=store_url, fmt="shopify")
    assert again.inserted == 0 and again.tables["order_lines"].unchanged == 3
