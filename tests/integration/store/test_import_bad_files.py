"""Bad files never end an import in an internal error (issue 12, items 9-11).

Each becomes either rejected rows with their reasons (the rest lands) or unusable input with nothing
written and no reject file, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aftersales import bootstrap
from aftersales.core.errors import UnusableInputError

HEADER = "customer_id,email,name,country\n"


def _rejects_file(path: Path) -> Path:
    return Path(f"{path}.rejected.csv")


def _reasons(probe, path: Path) -> dict[str, str]:
    return {r["row"]: r["reason"] for r in probe.rejects(path)}


def test_latin1_row_in_a_utf8_csv_is_rejected_and_the_rest_lands(store_url, probe, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        HEADER.encode()
        + "c1,a@example.com,Müller,DE\n".encode()
        + "c2,b@example.com,Müller,DE\n".encode("latin-1")
        + b"c3,c@example.com,Ann,SE\n"
    )
    res = bootstrap.import_file("customers", str(path), db=store_url)
    assert (res.read, res.inserted, res.rejected) == (3, 2, 1)
    assert [c["name"] for c in probe.rows("customers")] == ["Müller", "Ann"]
    [rejected] = probe.rejects(path)
    assert rejected["row"] == "2"
    assert rejected["reason"] == "not UTF-8 text (save the file as UTF-8): name 'M\\xfcller'"
    assert rejected["name"] == "M\\xfcller"  # the reject file stays UTF-8; the byte stays visible


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("utf16.csv", (HEADER + "c1,a@x,Ann,NO\n").encode("utf-16"), "the file is UTF-16 text; save it as UTF-8"),
        ("utf16.jsonl", '{"customer_id": "c1"}\n'.encode("utf-16"), "the file is UTF-16 text"),
        ("garbage.csv", random.Random(1).randbytes(5000), "header is not UTF-8 text"),
        ("garbage.jsonl", random.Random(2).randbytes(5000), "first line is not UTF-8"),
        ("nul.csv", b"customer_id\x00,name\nc1,Ann\n", "header is not UTF-8 text"),
    ],
)
def test_utf16_and_binary_files_are_unusable_and_write_nothing(store_url, probe, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnusableInputError, match=message):
        bootstrap.import_file("customers", str(path), db=store_url)
    assert probe.count("customers") == 0
    assert not _rejects_file(path).exists()


@pytest.mark.parametrize(("content", "rows"), [("customer_id,email", 0), ("customer_id,email\nc1,a@x", 1)])
def test_a_last_line_without_newline_is_read(store_url, probe, tmp_path, content, rows):
    path = tmp_path / "c.csv"
    path.write_text(content)
    res = bootstrap.import_file("customers", str(path), db=store_url)
    assert (res.read, res.inserted, res.rejected) == (rows, rows, 0)
    assert probe.count("customers") == rows


def test_a_50_mb_field_rejects_its_row_only(store_url, probe, tmp_path):
    path = tmp_path / "big.csv"
    with path.open("w") as f:
        f.write(HEADER + "c1,a@x,Ann,NO\n")
        f.write("c2,b@x," + "x" * 50_000_000 + ",NO\n")  # one line over MAX_LINE_BYTES: skipped unread
        f.write('c3,c@x,"' + "y" * 200_000 + '",SE\n')  # a field over csv.field_size_limit()
        f.write('c4,d@x,"' + "z" * 10_001 + '",SE\n')  # over the contract's text length
        f.write("c5,e@x,Bo,SE\n")
    res = bootstrap.import_file("customers", str(path), db=store_url, batch_size=2)
    assert (res.read, res.inserted, res.rejected) == (5, 2, 3)
    assert [c["customer_id"] for c in probe.rows("customers")] == ["c1", "c5"]
    reasons = _reasons(probe, path)
    assert reasons["2"] == "a line longer than 16,777,216 bytes (not read)"
    assert reasons["3"].startswith("malformed CSV row: field larger than field limit")
    assert reasons["4"] == "name: longer than 10,000 characters (10,001)"


@pytest.mark.parametrize(
    "column",
    [
        pa.array([["a"], ["b"]]),
        pa.array([{"a": 1}, {"a": 2}]),
        pa.array([[("k", 1)], [("k", 2)]], pa.map_(pa.string(), pa.int64())),
    ],
    ids=["list", "struct", "map"],
)
def test_parquet_nested_column_for_a_text_column_is_unusable(store_url, probe, tmp_path, column):
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"customer_id": ["c1", "c2"], "email": column}), path)
    with pytest.raises(UnusableInputError, match=r"column 'email' holds .* values; customers.email is string"):
        bootstrap.import_file("customers", str(path), db=store_url)
    assert probe.count("customers") == 0
    assert not _rejects_file(path).exists()


def test_parquet_struct_feeds_a_json_column_and_an_ignored_list_is_ignored(store_url, probe, tmp_path):
    path = tmp_path / "e.parquet"
    table = pa.table(
        {
            "event_id": ["e1", "e2"],
            "name": ["checkout_started", "checkout_started"],
            "occurred_at": pa.array([1704067200000000] * 2, pa.timestamp("us", tz="UTC")),
            "properties": pa.array([{"cart": 3}, None], pa.struct([("cart", pa.int64())])),
            "tags": [["a"], []],
        }
    )
    pq.write_table(table, path)
    res = bootstrap.import_file("events", str(path), db=store_url)
    assert (res.inserted, res.rejected, res.ignored_columns) == (2, 0, ("tags",))
    assert json.loads(probe.rows("events")[0]["properties"]) == {"cart": 3}


def test_nul_at_row_7000_of_12000_rejects_that_row_and_keeps_the_rest(store_url, probe, tmp_path):
    path = tmp_path / "c.csv"
    rows = [f"c{i},u{i}@example.com,Name {i},NO" for i in range(1, 12_001)]
    rows[6_999] = "c7000,u7000@example.com,Na\x00me,NO"
    path.write_text(HEADER + "\n".join(rows) + "\n")
    res = bootstrap.import_file("customers", str(path), db=store_url, batch_size=5_000)
    assert (res.read, res.inserted, res.rejected) == (12_000, 11_999, 1)
    assert probe.count("customers") == 11_999
    assert _reasons(probe, path) == {"7000": "name: contains a NUL character: 'Na\\x00me'"}


@pytest.mark.parametrize(
    ("revenue", "reason"),
    [
        ("1e20", "revenue: must be less than 10,000,000,000,000,000 in absolute value, got '1e20'"),
        ("10000000000000000", "revenue: must be less than 10,000,000,000,000,000 in absolute value"),
        ("12.345", "revenue: more than 2 decimal places: '12.345'"),
        ("0.001", "revenue: more than 2 decimal places: '0.001'"),
    ],
)
def test_money_the_store_cannot_hold_exactly_is_rejected(store_url, probe, write_csv, customers, revenue, reason):
    bootstrap.import_file("customers", str(write_csv("c.csv", customers)), db=store_url)
    good = {"order_id": "o1", "customer_id": "c1", "ordered_at": "2024-03-01T10:00:00Z", "revenue": "12.3400"}
    path = write_csv("o.csv", [good, {**good, "order_id": "o2", "revenue": revenue}])
    res = bootstrap.import_file("orders", str(path), db=store_url)
    assert (res.inserted, res.rejected) == (1, 1)
    assert probe.rows("orders")[0]["revenue"] == Decimal("12.34")
    assert _reasons(probe, path)["2"].startswith(reason)


def test_parquet_decimal_with_a_fraction_of_a_cent_is_refused_not_rounded(store_url, probe, tmp_path):
    path = tmp_path / "o.parquet"
    table = pa.table(
        {
            "order_id": ["o1", "o2"],
            "customer_id": ["c1", "c1"],
            "ordered_at": pa.array([1704067200000000] * 2, pa.timestamp("us", tz="UTC")),
            "revenue": pa.array([Decimal("12.345"), Decimal("5.000")], pa.decimal128(10, 3)),
        }
    )
    pq.write_table(table, path)
    res = bootstrap.import_file("orders", str(path), db=store_url, create_missing_customers=True)
    assert (res.inserted, res.rejected) == (1, 1)
    assert [(o["order_id"], o["revenue"]) for o in probe.rows("orders")] == [("o2", Decimal("5.00"))]
    assert _reasons(probe, path) == {"1": "revenue: more than 2 decimal places: '12.345'"}


def test_an_integer_beyond_64_bits_is_rejected(store_url, probe, write_csv):
    path = write_csv("p.csv", [{"product_id": "p1", "warranty_days": "1e19"}, {"product_id": "p2"}])
    res = bootstrap.import_file("products", str(path), db=store_url)
    assert (res.inserted, res.rejected) == (1, 1)
    assert _reasons(probe, path) == {"1": "warranty_days: out of range for a 64-bit integer: '1e19'"}


def test_json_lines_counts_add_up(store_url, probe, tmp_path):
    path = tmp_path / "c.jsonl"
    lines = [
        '{"customer_id": "c1"}',
        "[1]",
        "",
        '{"customer_id": "c2"',
        '{"customer_id": "c3", "name": "\\u0000"}',
        "5",
        '{"customer_id": "c4"}',
        '{"customer_id": "c1"}',
    ]
    path.write_bytes("\n".join(lines).encode() + b"\n" + b'{"customer_id": "M\xfcller"}\n')
    res = bootstrap.import_file("customers", str(path), db=store_url, batch_size=2)
    assert res.read == 8  # the blank line is not a record
    assert res.read == res.inserted + res.updated + res.unchanged + res.duplicates + res.rejected
    assert (res.inserted, res.duplicates, res.rejected) == (2, 1, 5)
    reasons = _reasons(probe, path)
    assert set(reasons) == {"2", "4", "5", "6", "9"}
    assert reasons["5"] == "name: contains a NUL character: '\\x00'"
    assert reasons["9"].startswith("not UTF-8 text")


def test_cdnow_lines_that_are_not_text_or_mis_shaped_are_rejected(store_url, probe, tmp_path):
    path = tmp_path / "cdnow.txt"
    path.write_bytes(b" 00001 19970101  1   11.77\n 00002 1997\xff0112  1   12.00\n 00003 19970103  1\n")
    res = bootstrap.import_file("orders", str(path), db=store_url, fmt="cdnow")
    assert (res.read, res.inserted, res.rejected) == (3, 1, 2)
    reasons = _reasons(probe, path)
    assert reasons["2"].startswith("not plain text")
    assert reasons["3"] == "expected 4 fields, got 3"


def test_binary_cdnow_file_is_unusable(store_url, probe, tmp_path):
    path = tmp_path / "cdnow.txt"
    path.write_bytes(bytes(128 + b % 128 for b in random.Random(3).randbytes(500)))
    with pytest.raises(UnusableInputError, match="not a CDNOW log"):
        bootstrap.import_file("orders", str(path), db=store_url, fmt="cdnow")
    assert probe.count("orders") == 0
