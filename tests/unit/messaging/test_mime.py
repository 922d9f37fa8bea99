"""core/messaging/mime.py: the built message's structure and headers, stable Message-IDs, masking,
reading a message back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest

from aftersales.core.messaging.mime import (
    MESSAGE_HEADER,
    build_email,
    domain_of,
    mask_address,
    message_id_for,
    summarize,
    text_part,
)
from aftersales.core.messaging.templates import RenderedEmail

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
RENDERED = RenderedEmail("Grüße, Ana", "<p>Hallo <b>Ana</b></p>" + "<span>x</span>" * 400, "Hallo Ana\n")
MID = message_id_for("msg_00aa", "shop.example")


def build(**kw: object):
    args: dict = {
        "sender": "Kaffee & Co <noreply@shop.example>",
        "recipient": "Ana Ruiz <ana@example.com>",
        "message_id": MID,
        "date": AT,
        "internal_id": "msg_00aa",
    } | kw
    return build_email(RENDERED, **args)


def test_message_ids_are_stable_per_key_and_distinct_across_keys():
    assert message_id_for("msg_00aa", "shop.example") == message_id_for("msg_00aa", "Shop.Example")
    assert message_id_for("msg_00aa", "shop.example") != message_id_for("msg_00ab", "shop.example")
    assert MID.startswith("<as.") and MID.endswith("@shop.example>") and len(MID) == len("<as.@shop.example>") + 32
    with pytest.raises(ValueError):
        message_id_for("k", "bad domain>")


def test_the_message_is_multipart_alternative_text_then_html():
    msg = build()
    assert msg.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert text_part(msg) == "Hallo Ana\n"
    assert msg.get_body(preferencelist=("html",)).get_content().startswith("<p>Hallo <b>Ana</b></p>")


def test_headers_and_no_personal_data_in_our_own_header():
    msg = build()
    assert msg["From"] == "Kaffee & Co <noreply@shop.example>"
    assert msg["To"] == "Ana Ruiz <ana@example.com>"
    assert msg["Subject"] == "Grüße, Ana"
    assert msg["Date"] == "Mon, 02 Mar 2026 09:30:00 +0000"
    assert msg["Message-ID"] == MID
    assert msg[MESSAGE_HEADER] == "msg_00aa"
    assert "List-Unsubscribe" not in msg and "List-Unsubscribe-Post" not in msg


def test_the_wire_form_is_7bit_with_short_lines_and_parses_back():
    raw = build().as_bytes(policy=policy.SMTP)
    assert raw.isascii()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    back = message_from_bytes(raw, policy=policy.default)
    assert back["Subject"] == "Grüße, Ana" and text_part(back).rstrip() == "Hallo Ana"


def test_marketing_gets_one_click_unsubscribe_headers():
    msg = build(
        unsubscribe_url="https://shop.example/v1/unsubscribe/tok",
        unsubscribe_mailto="mailto:unsubscribe@shop.example?subject=tok",
        unsubscribe_post=True,
    )
    assert msg["List-Unsubscribe"] == (
        "<https://shop.example/v1/unsubscribe/tok>, <mailto:unsubscribe@shop.example?subject=tok>"
    )
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_extra_headers_and_what_cannot_be_overridden():
    assert build(headers={"Reply-To": "care@shop.example"})["Reply-To"] == "care@shop.example"
    for name in ("Message-ID", "to", "List-Unsubscribe-Post", MESSAGE_HEADER):
        with pytest.raises(ValueError, match="cannot be overridden"):
            build(headers={name: "x"})


@pytest.mark.parametrize(
    "kw",
    [
        {"message_id": "no-brackets@x"},
        {"date": datetime(2026, 1, 1)},
        {"unsubscribe_url": "javascript:alert(1)"},
        {"unsubscribe_post": True},
        {"recipient": "a@b.c\r\nBcc: evil@x.y"},
        {"headers": {"X-Note": "one\nBcc: evil@x.y"}},
    ],
)
def test_malformed_input_is_refused(kw):
    with pytest.raises(ValueError):
        build(**kw)


def test_domain_and_masking():
    assert domain_of("Shop <NoReply@Shop.Example>") == "shop.example"
    assert domain_of("no address") == "localhost"
    assert mask_address("ana@example.com") == "a***@example.com"
    assert mask_address("Ana <ana@example.com>") == "a***@example.com"
    assert mask_address("") == "***"


def test_summarize_reads_the_headers_back():
    s = summarize(build(date=AT.astimezone(timezone(timedelta(hours=1)))))
    assert (s.message_id, s.internal_id, s.subject, s.recipient) == (MID, "msg_00aa", "Grüße, Ana", "ana@example.com")
    assert s.date == AT and s.sender == "Kaffee & Co <noreply@shop.example>"
