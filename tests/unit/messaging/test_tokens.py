"""core/tokens.py: signed tokens round-trip; tampering, another key, expiry and another purpose are
refused with the reason; malformed input never raises anything but TokenError."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

import aftersales
from aftersales.core.errors import TokenError, UnusableInputError
from aftersales.core.tokens import MAX_PAYLOAD_BYTES, TOKEN_ERROR_REASONS, sign_token, verify_token

KEY = bytes(range(32))
OTHER = bytes(range(1, 33))
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)


def token(**kw: object) -> str:
    args: dict = {"expires_at": LATER, "data": {"topic": "win_back"}} | kw
    return sign_token(KEY, "unsubscribe", "cust_42", **args)


def reason(tok: str, purpose: str = "unsubscribe", key: bytes = KEY, now: datetime = NOW) -> str:
    with pytest.raises(TokenError) as info:
        verify_token(key, tok, purpose, now=now)
    return info.value.reason


def test_a_token_round_trips_its_purpose_subject_data_and_expiry():
    v = verify_token(KEY, token(), "unsubscribe", now=NOW)
    assert (v.purpose, v.subject, dict(v.data), v.expires_at) == (
        "unsubscribe",
        "cust_42",
        {"topic": "win_back"},
        LATER,
    )


def test_tokens_are_url_safe_and_compact():
    tok = token()
    assert set(tok) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert len(tok) < 120


def test_every_changed_character_breaks_the_signature():
    tok = token()
    for i, ch in enumerate(tok):
        if ch == ".":
            continue
        swapped = "A" if ch != "A" else "B"
        forged = tok[:i] + swapped + tok[i + 1 :]
        assert reason(forged) in ("bad_signature", "malformed"), i


def test_a_re_signed_payload_without_the_key_is_refused():
    body, mac = token().split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload[2] = "cust_43"  # another customer, same signature
    forged_body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).rstrip(b"=").decode()
    assert reason(f"{forged_body}.{mac}") == "bad_signature"


def test_another_instances_key_is_a_bad_signature():
    assert reason(token(), key=OTHER) == "bad_signature"


def test_expiry_is_exclusive_to_the_second():
    tok = token(expires_at=NOW + timedelta(seconds=10))
    assert verify_token(KEY, tok, "unsubscribe", now=NOW + timedelta(seconds=9, microseconds=999_999)).subject
    assert reason(tok, now=NOW + timedelta(seconds=10)) == "expired"
    assert reason(tok, now=NOW + timedelta(days=400)) == "expired"


def test_a_token_for_another_purpose_is_refused_even_when_expired():
    assert reason(token(), purpose="preferences") == "wrong_purpose"
    assert reason(token(expires_at=NOW - timedelta(days=1)), purpose="survey") == "wrong_purpose"


@pytest.mark.parametrize(
    "garbage",
    ["", ".", "abc", "a.b.c", "no dots at all", "é.é", "!!!.???", "YQ.YQ", "W10." + "A" * 22, "x" * 5000],
)
def test_garbage_is_malformed_or_a_bad_signature_never_a_crash(garbage):
    assert reason(garbage) in ("malformed", "bad_signature")


def test_the_error_is_a_4xx_unusable_input_that_never_echoes_the_token():
    tok = token()
    with pytest.raises(TokenError) as info:
        verify_token(OTHER, tok, "unsubscribe", now=NOW)
    err = info.value
    assert isinstance(err, UnusableInputError) and aftersales.TokenError is TokenError
    assert (err.http_status, err.exit_code, err.title) == (400, 2, "Invalid token")
    assert tok not in str(err) and "cust_42" not in str(err)
    assert err.reason in TOKEN_ERROR_REASONS


def test_times_are_compared_as_instants_whatever_their_zone():
    zurich = timezone(timedelta(hours=1))
    tok = sign_token(KEY, "survey", "c", expires_at=datetime(2026, 3, 1, 13, 0, tzinfo=zurich))  # 12:00 UTC
    assert reason(tok, purpose="survey", now=datetime(2026, 3, 1, 12, 0, tzinfo=UTC)) == "expired"
    assert verify_token(KEY, tok, "survey", now=datetime(2026, 3, 1, 12, 59, tzinfo=zurich)).subject == "c"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"expires_at": datetime(2030, 1, 1)},  # naive
        {"data": {"n": 1}},  # not a string
        {"data": {"big": "x" * MAX_PAYLOAD_BYTES}},
    ],
)
def test_programming_errors_are_value_errors(kwargs):
    with pytest.raises(ValueError):
        token(**kwargs)


def test_short_keys_and_naive_now_are_refused():
    with pytest.raises(ValueError, match="at least 16 bytes"):
        sign_token(b"short", "p", "s", expires_at=LATER)
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_token(KEY, token(), "unsubscribe", now=datetime(2026, 1, 1))


@given(
    subject=st.text(max_size=40),
    purpose=st.text(min_size=1, max_size=20),
    data=st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=4),
)
def test_any_subject_and_data_round_trip(subject, purpose, data):
    tok = sign_token(KEY, purpose, subject, expires_at=LATER, data=data)
    v = verify_token(KEY, tok, purpose, now=NOW)
    assert (v.subject, dict(v.data)) == (subject, data)
