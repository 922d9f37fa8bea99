"""Identifier normalisation and hashing: awkward inputs against SHA-256 digests computed by hand
(``printf '%s' VALUE | sha256sum``), and the E.164 fast path against phonenumbers itself."""

from __future__ import annotations

import unicodedata

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.core.audiences import (
    country_code,
    e164,
    google_email,
    google_name,
    meta_email,
    meta_name,
    meta_phone,
    sha256_hex,
    split_name,
)

# printf '%s' VALUE | sha256sum
DIGESTS = {
    "johnsmith@gmail.com": "3586de92bb3636d0885a12eff961429a32e4ebd764b96f50d85d016f9338d586",
    "john.smith@gmail.com": "d0c648bc36f12061bec770df216cea2ab95851b9350fd54b658de53b0407767a",
    "+442079460958": "f0bf0228144d9fe2bdf1da2d8ca698f17bf1410ee688b075c27062e47b6f0b6d",
    "442079460958": "35e206e5dec4c89b9e8b71b8c32724a5bb518483ac5a20c6617d738375b3b823",
    "+491701234567": "b4267a2234e2072fa4d2e8d89fbe727c50fc414731d6ecacc2ed3d00f05038d1",
    "491701234567": "8b47a52ed04d068c3a9c5632b98cec18780a9f9f4099d4f8afe233970ce116fe",
    "zoë": "2752b88686847fa5c86f47b94ce652b7b3f22a91c37617d451a4db9afa431450",
    "müllerlüdenscheidt": "5d111567d02391abb8602b6a6498465eb1edf98eb6ba46fa5bd2f2d69351a514",
    "obriensmith": "16765783f9c8c8a3accf27f1abb877688cb5904c21a4a7afb5f125bcfcb246ba",
    "maryann": "16b3f07f0ec2f9dd127b71dc2e6c791b7d93116a1c3bc99d057eaa7a8a077e73",
    "gb": "0b407281768f0e833afef47ed464b6571d01ca4d53c12ce5c51d1462f4ad6677",
}


@pytest.mark.parametrize(
    ("raw", "google", "meta"),
    [
        ("  John.Smith@GMAIL.com\t", "johnsmith@gmail.com", "john.smith@gmail.com"),
        ("j.o.h.n.smith@googlemail.com", "johnsmith@googlemail.com", "j.o.h.n.smith@googlemail.com"),
        ("First.Last@Example.COM", "first.last@example.com", "first.last@example.com"),
        ("Zoë@Example.DE ", "zoë@example.de", "zoë@example.de"),
        ("two@@example.com", None, None),
        ("no at sign", None, None),
        ("space in@example.com", None, None),
        ("nodot@localhost", None, None),
        ("   ", None, None),
        (None, None, None),
    ],
)
def test_email_rules(raw: str | None, google: str | None, meta: str | None) -> None:
    assert google_email(raw) == google
    assert meta_email(raw) == meta


def test_email_digests_match_hand_computed_values() -> None:
    assert sha256_hex(google_email(" John.Smith@GMAIL.com ") or "") == DIGESTS["johnsmith@gmail.com"]
    assert sha256_hex(meta_email(" John.Smith@GMAIL.com ") or "") == DIGESTS["john.smith@gmail.com"]


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("020 7946 0958", "GB", "+442079460958"),  # UK national format, trunk 0 dropped
        ("(020) 7946-0958", "gb", "+442079460958"),
        ("+44 (0)20 7946 0958", None, "+442079460958"),  # the "(0)" UK habit
        ("0044 20 7946 0958", "GB", "+442079460958"),  # international prefix from the UK
        ("0170 1234567", "DE", "+491701234567"),  # German mobile, national format
        ("+49 170 1234567", "FR", "+491701234567"),  # an international number ignores the region
        ("(415) 555-2671", "US", "+14155552671"),
        ("415.555.2671", "us", "+14155552671"),
        ("+14155552671", None, "+14155552671"),  # already E.164: the fast path
        ("415 555 2671", None, None),  # national format without a country: cannot be read
        ("12", "GB", None),  # too short for any number
        ("call me", "GB", None),
        ("", "GB", None),
        (None, "GB", None),
    ],
)
def test_phones_in_two_countries_become_e164(raw: str | None, region: str | None, expected: str | None) -> None:
    assert e164(raw, region) == expected


def test_phone_digests_google_keeps_the_plus_meta_drops_it() -> None:
    assert sha256_hex(e164("020 7946 0958", "GB") or "") == DIGESTS["+442079460958"]
    assert sha256_hex(meta_phone("020 7946 0958", "GB") or "") == DIGESTS["442079460958"]
    assert sha256_hex(e164("0170 1234567", "DE") or "") == DIGESTS["+491701234567"]
    assert sha256_hex(meta_phone("0170 1234567", "DE") or "") == DIGESTS["491701234567"]


@pytest.mark.parametrize(
    ("raw", "meta", "google"),
    [
        ("  Zoë ", "zoë", "zoë"),
        ("Müller-Lüdenscheidt", "müllerlüdenscheidt", "müller-lüdenscheidt"),
        ("O'Brien-Smith", "obriensmith", "o'brien-smith"),
        ("Mary Ann", "maryann", "maryann"),
        ("JOSÉ", "josé", "josé"),
        ("3rd.", "rd", "3rd."),
        ("-", None, "-"),
        ("   ", None, None),
    ],
)
def test_name_rules(raw: str, meta: str | None, google: str | None) -> None:
    assert meta_name(raw) == meta
    assert google_name(raw) == google


def test_name_digests_and_decomposed_accents_hash_alike() -> None:
    decomposed = unicodedata.normalize("NFD", "Zoë")
    assert decomposed != "Zoë"
    assert sha256_hex(meta_name(decomposed) or "") == DIGESTS["zoë"]
    assert sha256_hex(meta_name("Müller-Lüdenscheidt") or "") == DIGESTS["müllerlüdenscheidt"]
    assert sha256_hex(meta_name("O'Brien-Smith") or "") == DIGESTS["obriensmith"]
    assert sha256_hex(google_name(" Mary Ann ") or "") == DIGESTS["maryann"]


def test_country_is_two_letters() -> None:
    assert [country_code(c) for c in (" gb ", "DE", "GBR", "", None, "1A")] == ["GB", "DE", None, None, None, None]
    assert sha256_hex((country_code("GB") or "").lower()) == DIGESTS["gb"]


def test_split_name() -> None:
    assert split_name("  Jean  Paul Sartre ") == ("Jean", "Paul Sartre")
    assert split_name("Madonna") == (None, None)


def _parsed(text: str) -> str | None:
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=3000, deadline=None)
@given(st.from_regex(r"\+[1-9][0-9]{5,16}", fullmatch=True))
def test_e164_fast_path_agrees_with_phonenumbers(text: str) -> None:
    """Numbers already written in E.164 skip the parser; the result must be the parser's."""
    assert e164(text) == _parsed(text)
