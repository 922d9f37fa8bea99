"""Exports of a saved segment on SQLite and PostgreSQL: members only, consent applied, left-out counts,
each format's file, and bad exports that write nothing."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from aftersales.adapters.sources.audience_files import open_audience_writer
from aftersales.core.errors import NotFoundError, UnusableInputError
from aftersales.services.operational.audiences import export_audience

LEFT_OUT = {"no_identifier": 1, "no_consent": 1, "unparseable_phone": 1, "invalid_email": 0}


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """An empty folder for the exports (the SQLite store lives beside it)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_csv_export_holds_consented_members_only(audience, files: Path) -> None:
    out = files / "vip.csv"
    result = export_audience(audience, "vip", "csv", out, open_writer=open_audience_writer)
    assert (result.segment_id, result.members, result.rows, result.emails, result.phones) == ("seg_vip", 7, 4, 2, 3)
    assert result.left_out == LEFT_OUT
    rows = _csv(out)
    assert [r["customer_id"] for r in rows] == ["c01", "c02", "c03", "c04"]  # c08 left, c09 is another segment's
    assert rows[0] == {"customer_id": "c01", "email": "john.smith@gmail.com", "phone": "+442079460958",
                       "name": "John Smith", "country": "GB"}  # fmt: skip
    assert [r["email"] for r in rows] == ["john.smith@gmail.com", "", "", "x@example.com"]
    assert [r["phone"] for r in rows] == ["+442079460958", "+491701234567", "+14155552671", ""]


def test_google_and_meta_files_carry_the_platform_headers_and_hashes(audience, files: Path) -> None:
    export_audience(audience, "seg_vip", "google", files / "g.csv", open_writer=open_audience_writer)
    export_audience(audience, "vip", "meta", files / "m.csv", open_writer=open_audience_writer)
    google, meta = _csv(files / "g.csv"), _csv(files / "m.csv")
    assert list(google[0]) == ["Email", "Phone", "First Name", "Last Name", "Country", "Zip"]
    assert list(meta[0]) == ["EMAIL", "PHONE", "FN", "LN", "COUNTRY"]
    # printf '%s' johnsmith@gmail.com | sha256sum ; printf '%s' +442079460958 | sha256sum
    assert google[0]["Email"] == "3586de92bb3636d0885a12eff961429a32e4ebd764b96f50d85d016f9338d586"
    assert google[0]["Phone"] == "f0bf0228144d9fe2bdf1da2d8ca698f17bf1410ee688b075c27062e47b6f0b6d"
    # john.smith@gmail.com ; 442079460958 ; 491701234567
    assert meta[0]["EMAIL"] == "d0c648bc36f12061bec770df216cea2ab95851b9350fd54b658de53b0407767a"
    assert meta[0]["PHONE"] == "35e206e5dec4c89b9e8b71b8c32724a5bb518483ac5a20c6617d738375b3b823"
    assert meta[1]["PHONE"] == "8b47a52ed04d068c3a9c5632b98cec18780a9f9f4099d4f8afe233970ce116fe"
    assert len(google) == len(meta) == 4
    assert "john" not in (files / "g.csv").read_text() + (files / "m.csv").read_text()


def test_parquet_export(audience, files: Path) -> None:
    result = export_audience(audience, "vip", "parquet", files / "vip.parquet", open_writer=open_audience_writer)
    table = pq.read_table(files / "vip.parquet")
    assert table.column_names == ["customer_id", "email", "phone", "name", "country"]
    assert table.column("customer_id").to_pylist() == ["c01", "c02", "c03", "c04"]
    assert result.rows == 4


def test_small_batches_give_the_same_file(audience, files: Path) -> None:
    export_audience(audience, "vip", "meta", files / "a.csv", open_writer=open_audience_writer)
    r = export_audience(audience, "vip", "meta", files / "b.csv", open_writer=open_audience_writer, batch_rows=2)
    assert (files / "a.csv").read_bytes() == (files / "b.csv").read_bytes()
    assert r.left_out == LEFT_OUT


@pytest.mark.parametrize(("name", "fmt"), [("vip.parquet", "google"), ("vip.csv", "parquet"), ("vip.json", "meta")])
def test_a_mismatching_extension_writes_nothing(audience, files: Path, name: str, fmt: str) -> None:
    with pytest.raises(UnusableInputError, match=f"{name} is named .* but --format {fmt} writes"):
        export_audience(audience, "vip", fmt, files / name, open_writer=open_audience_writer)
    assert list(files.iterdir()) == []


def test_an_unknown_segment_writes_nothing(audience, files: Path) -> None:
    with pytest.raises(NotFoundError, match="no segment 'nope'"):
        export_audience(audience, "nope", "csv", files / "x.csv", open_writer=open_audience_writer)
    assert list(files.iterdir()) == []


def test_a_failure_midway_leaves_no_file(audience, files: Path) -> None:
    """The writer fails on its second batch: neither the target nor a partial file remains, and an
    earlier file of that name is kept as it was."""
    out = files / "vip.csv"
    out.write_text("before\n")
    calls = []

    def failing_writer(path, kind, columns):
        ctx = open_audience_writer(path, kind, columns)

        class Wrapped:
            def __enter__(self):
                write = ctx.__enter__()

                def second_fails(batch):
                    calls.append(1)
                    if len(calls) == 2:
                        raise OSError("disk full")
                    write(batch)

                return second_fails

            def __exit__(self, *exc):
                return ctx.__exit__(*exc)

        return Wrapped()

    with pytest.raises(OSError, match="disk full"):
        export_audience(audience, "vip", "csv", out, open_writer=failing_writer, batch_rows=2)
    assert sorted(p.name for p in files.iterdir()) == ["vip.csv"]
    assert out.read_text() == "before\n"
