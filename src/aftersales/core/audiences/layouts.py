"""Audience files: which customers leave, with which identifiers, in each format's columns.

**Consent decides what leaves.** The contract has two consent flags: ``email_consent`` ("may receive
marketing e-mail") and ``sms_consent`` ("may receive marketing SMS / phone messages"). An audience
uses an identifier for marketing (an ad platform matches it to show ads; a CRM mails or texts it), so
an e-mail address leaves only with ``email_consent`` and a phone number only with ``sms_consent``; a
customer leaves when at least one consented identifier is usable, and names and country travel only
with such a customer (they are match keys, never identifiers on their own). Everyone else is left
out, counted under the first reason that applies:

=====================  ==========================================================================
``no_identifier``      neither an e-mail address nor a phone number is stored
``no_consent``         what is stored has no consent (no e-mail consent, no SMS/phone consent)
``unparseable_phone``  the consented phone number cannot be read as a number of its country
``invalid_email``      the consented e-mail address is not an address
=====================  ==========================================================================

**Formats.** ``csv`` / ``parquet``: the identifiers in clear for a CRM (e-mail trimmed and
lower-cased, phone in E.164). ``google``: Google Customer Match's CSV (headers ``Email, Phone, First
Name, Last Name, Country, Zip``; e-mail, phone and names hashed, country and zip in clear; the
address group only when all four are known, as Google matches an address on all four). ``meta``: a
Meta customer-file CSV with the Marketing API's schema keys as headers (``EMAIL, PHONE, FN, LN,
COUNTRY``, every value hashed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import PurePath

from aftersales.core.audiences.identifiers import (
    country_code,
    e164,
    google_email,
    google_name,
    meta_email,
    meta_name,
    sha256_hex,
    split_name,
)
from aftersales.core.errors import UnknownFormatError, UnusableInputError

__all__ = [
    "COLUMNS",
    "EXPORT_FORMATS",
    "LEFT_OUT_REASONS",
    "MemberBatch",
    "Prepared",
    "file_kind",
    "prepare",
]

EXPORT_FORMATS = ("csv", "parquet", "google", "meta")
_FILE_KIND = {"csv": "csv", "parquet": "parquet", "google": "csv", "meta": "csv"}
_EXTENSIONS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}

COLUMNS: dict[str, tuple[str, ...]] = {
    "csv": ("customer_id", "email", "phone", "name", "country"),
    "parquet": ("customer_id", "email", "phone", "name", "country"),
    "google": ("Email", "Phone", "First Name", "Last Name", "Country", "Zip"),
    "meta": ("EMAIL", "PHONE", "FN", "LN", "COUNTRY"),
}

LEFT_OUT_REASONS: dict[str, str] = {
    "no_identifier": "no e-mail address or phone number stored",
    "no_consent": "no consent for the e-mail address or phone number stored",
    "unparseable_phone": "consented phone number cannot be parsed",
    "invalid_email": "consented e-mail address is not an address",
}


def file_kind(path: PurePath | str, fmt: str) -> str:
    """The file type format ``fmt`` writes (``csv`` or ``parquet``), checked against ``path``'s extension.

    >>> file_kind("audience.csv", "meta"), file_kind("audience.parquet", "parquet")
    ('csv', 'parquet')
    >>> try:
    ...     file_kind("a.parquet", "google")
    ... except UnusableInputError as exc:
    ...     print(exc)
    output file a.parquet is named parquet (.parquet) but --format google writes csv (.csv)
    """
    if fmt not in _FILE_KIND:
        raise UnknownFormatError(f"unknown audience format {fmt!r}: use {', '.join(EXPORT_FORMATS)}")
    kind = _FILE_KIND[fmt]
    name = PurePath(path).name
    suffix = PurePath(path).suffix.lower()
    named = _EXTENSIONS.get(suffix)
    if named != kind:
        what = f"named {named} ({suffix})" if named else f"named {suffix or 'without an extension'}"
        raise UnusableInputError(f"output file {name} is {what} but --format {fmt} writes {kind} (.{kind})")
    return kind


Member = tuple[str, str | None, str | None, str | None, str | None, bool | int | None, bool | int | None]
"""One member: (customer_id, email, phone, name, country, email_consent, sms_consent), as stored;
consent may come as 0/1 (SQLite): only its truth counts."""


@dataclass(frozen=True)
class MemberBatch:
    """Segment members as row tuples (:data:`Member`), as the store reads them (turning a million rows
    into columns and back would cost 0.7 s of CPU), and the postal code of each where one is known
    (the contract has none yet)."""

    rows: Sequence[Member]
    postal_codes: Sequence[str | None] | None = None

    @classmethod
    def from_columns(
        cls,
        customer_id: Sequence[str],
        email: Sequence[str | None],
        phone: Sequence[str | None],
        name: Sequence[str | None],
        country: Sequence[str | None],
        email_consent: Sequence[bool | None],
        sms_consent: Sequence[bool | None],
        postal_codes: Sequence[str | None] | None = None,
    ) -> MemberBatch:
        rows = list(zip(customer_id, email, phone, name, country, email_consent, sms_consent, strict=True))
        return cls(rows, postal_codes)

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class Prepared:
    """The rows that leave (``columns``, in the format's column order) and the count left out by reason."""

    columns: dict[str, list[str | None]]
    left_out: Counter[str] = field(default_factory=Counter)
    emails: int = 0
    phones: int = 0

    @property
    def rows(self) -> int:
        return len(next(iter(self.columns.values()), []))


def _present(value: str | None) -> bool:
    return value is not None and value.strip() != ""


def _reason(email: str | None, phone: str | None, e_ok: bool, p_ok: bool) -> str:
    has_e, has_p = _present(email), _present(phone)
    if not has_e and not has_p:
        return "no_identifier"
    consented_e, consented_p = has_e and e_ok, has_p and p_ok
    if not consented_e and not consented_p:
        return "no_consent"
    return "unparseable_phone" if consented_p else "invalid_email"


def _cached(fn: Callable[[str | None], str | None]) -> Callable[[str | None], str | None]:
    """``fn`` remembered per distinct input: names and countries repeat across a customer base, so a
    million rows cost a few thousand normalisations and hashes instead of a million."""
    memo: dict[str | None, str | None] = {}

    def run(value: str | None) -> str | None:
        try:
            return memo[value]
        except KeyError:
            memo[value] = result = fn(value)
            return result

    return run


def _hashed(fn: Callable[[str | None], str | None]) -> Callable[[str | None], str | None]:
    def run(value: str | None) -> str | None:
        normal = fn(value)
        return sha256_hex(normal) if normal is not None else None

    return run


def prepare(fmt: str, batch: MemberBatch) -> Prepared:
    """The rows of ``batch`` that may leave in format ``fmt`` (see the module for the rules)."""
    if fmt not in COLUMNS:
        raise UnknownFormatError(f"unknown audience format {fmt!r}: use {', '.join(EXPORT_FORMATS)}")
    email_rule = google_email if fmt == "google" else meta_email
    out: dict[str, list[str | None]] = {c: [] for c in COLUMNS[fmt]}
    cols = list(out.values())
    result = Prepared(out)
    country_of = _cached(country_code)
    first_of = _cached(_hashed(google_name if fmt == "google" else meta_name))
    meta_country = _cached(_hashed(lambda c: None if (code := country_code(c)) is None else code.lower()))
    zips = batch.postal_codes if batch.postal_codes is not None else repeat(None, len(batch))
    for (cid, email, phone, name, country, e_ok, p_ok), postal in zip(batch.rows, zips, strict=True):
        mail = email_rule(email) if e_ok and email is not None else None
        number = e164(phone, country) if p_ok and phone is not None else None
        if mail is None and number is None:
            result.left_out[_reason(email, phone, bool(e_ok), bool(p_ok))] += 1
            continue
        result.emails += mail is not None
        result.phones += number is not None
        if fmt in ("csv", "parquet"):
            values: tuple[str | None, ...] = (cid, mail, number, name.strip() if name else None, country_of(country))
        elif fmt == "google":
            values = (
                sha256_hex(mail) if mail else None,
                sha256_hex(number) if number else None,
                *_google_address(name, country_of(country), postal, first_of),
            )
        else:
            first, last = split_name(name)
            values = (
                sha256_hex(mail) if mail else None,
                sha256_hex(number[1:]) if number else None,  # Meta: digits with the country code, no "+"
                first_of(first),
                first_of(last),
                meta_country(country),
            )
        for col, value in zip(cols, values, strict=True):
            col.append(value)
    return result


def _google_address(
    name: str | None, country: str | None, postal: str | None, hashed_name: Callable[[str | None], str | None]
) -> tuple[str | None, str | None, str | None, str | None]:
    """Google's address group (First Name, Last Name, Country, Zip): all four or none, since Google
    matches an address only on all four; country lower-case as in Google's template, zip in clear."""
    zip_code = postal.strip() if postal else None
    if not zip_code or country is None:
        return None, None, None, None
    first, last = split_name(name)
    h_first, h_last = hashed_name(first), hashed_name(last)
    if h_first is None or h_last is None:
        return None, None, None, None
    return h_first, h_last, country.lower(), zip_code
