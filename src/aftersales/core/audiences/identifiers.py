"""Identifier normalisation and hashing, per the ad platforms' published rules (docs/audiences.md cites them).

A platform matches a customer by comparing SHA-256 digests, so one stray capital, space or format
difference is a miss: each identifier is normalised exactly as the platform says, then hashed as
``sha256(utf8(normalised)).hexdigest()`` (64 lower-case hex digits).

* **E-mail** (both): trim, lower-case; an address without exactly one ``@``, or with white space or
  no dot in its domain, is not an address (None). Google additionally removes every ``.`` before the
  ``@`` of ``gmail.com`` and ``googlemail.com`` addresses (Gmail ignores them, so ``jo.hn@`` and
  ``john@`` are one mailbox).
* **Phone**: E.164 (``+`` country code, national significant number) with ``phonenumbers``, the
  customer's country as the default region for numbers written nationally; a number that cannot be
  parsed or whose length is impossible for its country is None. Google hashes the E.164 text with
  its ``+``; Meta hashes the digits alone (no ``+``: Meta's rule, and a ``+`` gets no match there).
* **Names**: Unicode NFC first (so a composed and a decomposed ``é`` hash alike), lower-case.
  Google: all white space removed. Meta: letters only (no punctuation, digits or spaces), accented
  letters kept as UTF-8.
* **Country**: ISO 3166-1 alpha-2. Google sends it in clear (not hashed), Meta hashes its lower case.

>>> sha256_hex("test@example.com")
'973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b'
>>> google_email("  Jo.Hn.Doe@GoogleMail.com "), meta_email("  Jo.Hn.Doe@GoogleMail.com ")
('johndoe@googlemail.com', 'jo.hn.doe@googlemail.com')
>>> e164("020 7946 0958", "GB"), e164("(415) 555-2671", "us"), e164("12", "GB")
('+442079460958', '+14155552671', None)
>>> meta_name("O'Brien-Smith"), google_name(" Mary Ann ")
('obriensmith', 'maryann')
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat

__all__ = [
    "country_code",
    "e164",
    "google_email",
    "google_name",
    "meta_email",
    "meta_name",
    "meta_phone",
    "sha256_hex",
    "split_name",
]

_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
_E164_SHAPE = re.compile(r"\+([1-9][0-9]{5,16})")
_COUNTRY = re.compile(r"[A-Za-z]{2}")
_EMAIL = re.compile(r"[^@\s]+@(?:[^@\s.]+\.)+[^@\s.]+")  # one @, no white space, a dotted domain


def sha256_hex(value: str) -> str:
    """SHA-256 of the UTF-8 bytes of ``value``, as 64 lower-case hex digits."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _email(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = raw.strip().lower()
    return text if _EMAIL.fullmatch(text) else None


def meta_email(raw: str | None) -> str | None:
    """Meta's EMAIL: trimmed, lower-cased (None when it is not an e-mail address)."""
    return _email(raw)


def google_email(raw: str | None) -> str | None:
    """Google's Email: trimmed, lower-cased, and for gmail.com / googlemail.com without the dots
    before the ``@`` (None when it is not an e-mail address).

    >>> google_email("First.Last@gmail.com"), google_email("first.last@example.com")
    ('firstlast@gmail.com', 'first.last@example.com')
    """
    text = _email(raw)
    if text is None:
        return None
    local, _, domain = text.partition("@")
    if domain in _GMAIL_DOMAINS:
        local = local.replace(".", "")
        if not local:
            return None
        return f"{local}@{domain}"
    return text


def country_code(raw: str | None) -> str | None:
    """ISO 3166-1 alpha-2 in upper case (``" gb "`` -> ``"GB"``); None unless two letters."""
    if raw is None:
        return None
    text = raw.strip()
    return text.upper() if _COUNTRY.fullmatch(text) else None


@cache
def _plan(calling_code: int) -> tuple[frozenset[int], re.Pattern[str] | None] | None:
    """The possible national-number lengths of ``calling_code`` (general and local-only, as
    ``phonenumbers.is_possible_number`` counts them) and its national-prefix-for-parsing pattern;
    None for a code no country uses."""
    region = phonenumbers.region_code_for_country_code(calling_code)
    if region == "ZZ":
        return None
    meta = PhoneMetadata.metadata_for_region_or_calling_code(calling_code, region)
    desc = meta.general_desc if meta is not None else None
    if meta is None or desc is None:
        return None
    lengths = {n for n in (desc.possible_length or ()) if n > 0} | set(desc.possible_length_local_only or ())
    prefix = re.compile(meta.national_prefix_for_parsing) if meta.national_prefix_for_parsing else None
    return frozenset(lengths), prefix


def _canonical_e164(text: str) -> str | None:
    """``text`` itself when it is already E.164 exactly as ``phonenumbers`` would write it, else None
    (unknown: the full parser decides). Parsing costs ~20 us a number; this check ~1 us, and stored
    numbers are E.164 where known (the data contract), so a million rows stay within seconds."""
    match = _E164_SHAPE.fullmatch(text)
    if match is None:
        return None
    digits = match.group(1)
    for size in (1, 2, 3):  # ITU calling codes are 1-3 digits and prefix-free
        plan = _plan(int(digits[:size]))
        if plan is not None:
            lengths, prefix = plan
            national = digits[size:]
            if prefix is not None and prefix.match(national):
                return None  # phonenumbers might strip a national prefix here: let it decide
            return text if len(national) in lengths and 2 <= len(national) <= 17 else None
    return None


def e164(raw: str | None, region: str | None = None) -> str | None:
    """``raw`` as E.164 (``+4420...``), reading a national format in ``region`` (ISO alpha-2, any
    case); None when it cannot be parsed or its length is impossible for its country."""
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return None
    fast = _canonical_e164(text)
    if fast is not None:
        return fast
    default = country_code(region)
    try:
        number = phonenumbers.parse(text, default)
    except NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def meta_phone(raw: str | None, region: str | None = None) -> str | None:
    """Meta's PHONE: the E.164 digits with the country code and no ``+``.

    >>> meta_phone("+1 (650) 555-1212"), meta_phone("0170 1234567", "de")
    ('16505551212', '491701234567')
    """
    number = e164(raw, region)
    return number[1:] if number is not None else None


def _nfc_lower(raw: str | None) -> str | None:
    if raw is None:
        return None
    return unicodedata.normalize("NFC", raw).lower()


def google_name(raw: str | None) -> str | None:
    """Google's First Name / Last Name: NFC, lower-case, every white-space character removed;
    accents and other characters kept (None when nothing is left)."""
    text = _nfc_lower(raw)
    if text is None:
        return None
    text = "".join(text.split())
    return text or None


def meta_name(raw: str | None) -> str | None:
    """Meta's FN / LN: NFC, lower-case, letters only (no punctuation, digits or white space), accented
    letters kept as UTF-8 (None when no letter is left).

    >>> meta_name("  José-María "), meta_name("D'Arcy Jr."), meta_name("123")
    ('josémaría', 'darcyjr', None)
    """
    text = _nfc_lower(raw)
    if text is None:
        return None
    text = "".join(ch for ch in text if ch.isalpha())
    return text or None


def split_name(raw: str | None) -> tuple[str | None, str | None]:
    """A display name split into (first, last): the first word, and the remaining words. A name of one
    word cannot be told apart and gives (None, None): a wrong first/last name only lowers matching.

    >>> split_name(" Mary Ann  van Dyke "), split_name("Cher"), split_name(None)
    (('Mary', 'Ann van Dyke'), (None, None), (None, None))
    """
    if raw is None:
        return None, None
    words = raw.split()
    if len(words) < 2:
        return None, None
    return words[0], " ".join(words[1:])
