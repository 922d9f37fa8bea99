"""Consent filtering, left-out reasons and each format's columns, on a hand-made batch of members."""

from __future__ import annotations

import pytest

from aftersales.core.audiences import COLUMNS, MemberBatch, file_kind, prepare
from aftersales.core.errors import UnknownFormatError, UnusableInputError

# (customer_id, email, phone, name, country, email_consent, sms_consent)
MEMBERS = [
    ("c01", " John.Smith@GMAIL.com ", "020 7946 0958", "John Smith", "GB", True, True),  # both leave
    ("c02", "zoe@example.de", "0170 1234567", "Zoë Müller", "DE", False, True),  # phone only: no e-mail consent
    ("c03", None, "(415) 555-2671", "D'Arcy O'Neil", "US", True, True),  # phone only: no e-mail stored
    ("c04", "x@example.com", "+1 650 555 1212", "Cher", "US", True, False),  # e-mail only: no SMS consent
    ("c05", "no@example.com", "+14155550000", "A B", "US", False, False),  # no consent
    ("c06", None, "   ", "A B", "US", True, True),  # no identifier (a blank phone is none)
    ("c07", None, "12", "A B", "GB", True, True),  # consented phone unparseable
    ("c08", "not-an-address", None, "A B", "GB", True, True),  # consented e-mail invalid
    ("c09", "bad", "12", "A B", "GB", True, True),  # both consented and unusable: the phone is named
]


def _batch(rows=MEMBERS, zips=None) -> MemberBatch:
    cols = list(zip(*rows, strict=True))
    return MemberBatch.from_columns(*cols, postal_codes=zips)  # type: ignore[arg-type]


def test_consent_decides_who_leaves_and_why_others_do_not() -> None:
    p = prepare("csv", _batch())
    assert p.columns["customer_id"] == ["c01", "c02", "c03", "c04"]
    assert p.columns["email"] == ["john.smith@gmail.com", None, None, "x@example.com"]
    assert p.columns["phone"] == ["+442079460958", "+491701234567", "+14155552671", None]
    assert p.columns["name"] == ["John Smith", "Zoë Müller", "D'Arcy O'Neil", "Cher"]
    assert p.columns["country"] == ["GB", "DE", "US", "US"]
    assert dict(p.left_out) == {"no_consent": 1, "no_identifier": 1, "unparseable_phone": 2, "invalid_email": 1}
    assert (p.rows, p.emails, p.phones) == (4, 2, 3)


def test_google_layout_hashes_email_with_gmail_rule_and_phone_with_plus() -> None:
    p = prepare("google", _batch())
    assert list(p.columns) == ["Email", "Phone", "First Name", "Last Name", "Country", "Zip"]
    assert p.columns["Email"][0] == "3586de92bb3636d0885a12eff961429a32e4ebd764b96f50d85d016f9338d586"
    assert p.columns["Phone"][0] == "f0bf0228144d9fe2bdf1da2d8ca698f17bf1410ee688b075c27062e47b6f0b6d"
    assert p.columns["Email"][1] is None  # c02 gave no e-mail consent
    # no postal code stored: Google matches an address only on all four, so none is sent
    assert p.columns["First Name"] == p.columns["Zip"] == [None] * 4


def test_google_address_group_goes_only_when_all_four_are_known() -> None:
    p = prepare("google", _batch(MEMBERS[:4], zips=["SW1A 1AA", None, "94016", "94016"]))
    assert p.columns["First Name"] == [
        "96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a",  # john
        None,  # c02: no postal code
        "9c91eaafb67f6471a1cd4cffa0672dbec998b8925ed84f6bd07d7f9db7f17f8a",  # d'arcy (Google keeps the ')
        None,  # "Cher": one word, no first/last name, so no address group
    ]
    assert p.columns["Last Name"][0] == "6627835f988e2c5e50533d491163072d3f4f41f5c8b04630150debb3722ca2dd"  # smith
    assert p.columns["Last Name"][2] == "eb1aed4f494ca276a88d3161252e48e0fe703f32666fe44fe4652f660b82cda4"  # o'neil
    assert p.columns["Country"] == ["gb", None, "us", None]
    assert p.columns["Zip"] == ["SW1A 1AA", None, "94016", None]


def test_meta_layout_hashes_everything_and_drops_the_plus() -> None:
    p = prepare("meta", _batch())
    assert list(p.columns) == ["EMAIL", "PHONE", "FN", "LN", "COUNTRY"]
    first = {k: v[0] for k, v in p.columns.items()}
    assert first == {
        "EMAIL": "d0c648bc36f12061bec770df216cea2ab95851b9350fd54b658de53b0407767a",  # john.smith@gmail.com
        "PHONE": "35e206e5dec4c89b9e8b71b8c32724a5bb518483ac5a20c6617d738375b3b823",  # 442079460958
        "FN": "96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a",  # john
        "LN": "6627835f988e2c5e50533d491163072d3f4f41f5c8b04630150debb3722ca2dd",  # smith
        "COUNTRY": "0b407281768f0e833afef47ed464b6571d01ca4d53c12ce5c51d1462f4ad6677",  # gb
    }
    assert p.columns["PHONE"][1] == "8b47a52ed04d068c3a9c5632b98cec18780a9f9f4099d4f8afe233970ce116fe"  # 491701234567
    assert p.columns["FN"][2] == "0e133d4201236bef9e6e2bc0ba5c5afeee0cab695d28d2adf5777c1664dfe56f"  # darcy
    assert p.columns["LN"][2] == "67a42a846e98e3c1a96cd6ba14883a5ea05990cd93964ce8b832aa9497ca785c"  # oneil
    assert p.columns["FN"][3] is None and p.columns["LN"][3] is None  # "Cher"
    assert dict(p.left_out) == dict(prepare("csv", _batch()).left_out)


@pytest.mark.parametrize(
    ("path", "fmt", "kind"),
    [
        ("a.csv", "csv", "csv"),
        ("a.CSV", "google", "csv"),
        ("a.csv", "meta", "csv"),
        ("d/a.parquet", "parquet", "parquet"),
        ("a.pq", "parquet", "parquet"),
    ],
)
def test_file_kind_follows_the_format(path: str, fmt: str, kind: str) -> None:
    assert file_kind(path, fmt) == kind


@pytest.mark.parametrize(
    ("path", "fmt", "message"),
    [
        ("a.parquet", "google", "a.parquet is named parquet (.parquet) but --format google writes csv"),
        ("a.csv", "parquet", "a.csv is named csv (.csv) but --format parquet writes parquet"),
        ("a.txt", "meta", "a.txt is named .txt but --format meta writes csv"),
        ("audience", "csv", "audience is named without an extension but --format csv writes csv"),
    ],
)
def test_a_mismatching_extension_names_both(path: str, fmt: str, message: str) -> None:
    with pytest.raises(UnusableInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        file_kind(path, fmt)


def test_unknown_format() -> None:
    with pytest.raises(UnknownFormatError, match="use csv, parquet, google, meta"):
        file_kind("a.csv", "tiktok")
    assert set(COLUMNS) == {"csv", "parquet", "google", "meta"}
