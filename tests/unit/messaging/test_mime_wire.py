"""core/messaging/mime.py on the wire: what ``build_email`` stores as wire text reads back exactly like
the message ``email.policy.default`` would have built, long unsubscribe URLs are never encoded, and the
bytes are 7-bit with lines SMTP accepts."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from aftersales.core.messaging.mime import build_email, message_id_for
from aftersales.core.messaging.templates import RenderedEmail

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
MID = message_id_for("msg_00aa", "shop.example")
LONG_URL = "https://shop.example/v1/unsubscribe?token=" + "eyJ0b2tlbiI6IjEifQ" * 9 + ".c2lnbmF0dXJl"


def reference(rendered: RenderedEmail, sender: str, recipient: str, unsubscribe: str | None) -> EmailMessage:
    """The message as ``email.policy.default`` builds it (header objects, ``set_content``)."""
    msg = EmailMessage(policy=policy.default)
    msg["From"], msg["To"], msg["Subject"] = sender, recipient, rendered.subject
    if unsubscribe:
        msg["List-Unsubscribe"] = f"<{unsubscribe}>"
    msg.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg


def wire(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=policy.SMTP)


CASES = [
    ("Thanks, Ana", "Shop <noreply@shop.example>", "ana@example.com", "<p>Hi <b>Ana</b></p>", "Hi Ana\n"),
    ("Grüße, Jörg: Ihre Bestellung", "Kaffee & Co <noreply@shop.example>", "Jörg Müller <j@example.com>",
     "<p>Grüße = 100% &amp; mehr</p>\n" * 40, "Grüße\n\n  trailing space \nline=two\n.dot first\n"),
    ("A subject that is far longer than seventy-eight characters, so that it must be folded somewhere",
     "noreply@shop.example", "\"Doe, Jane\" <jane@example.com>", "x" * 3000, "y" * 500 + "\r\nz\r\n"),
]  # fmt: skip


@pytest.mark.parametrize(("subject", "sender", "recipient", "html", "text"), CASES)
def test_the_message_reads_back_as_the_policy_built_one(subject, sender, recipient, html, text) -> None:
    rendered = RenderedEmail(subject, html, text)
    ours = build_email(
        rendered, sender=sender, recipient=recipient, message_id=MID, date=AT, internal_id="msg_00aa",
        unsubscribe_url=LONG_URL, unsubscribe_post=True,
    )  # fmt: skip
    theirs = reference(rendered, sender, recipient, LONG_URL)
    raw = wire(ours)
    assert raw.isascii() and max(len(line) for line in raw.split(b"\r\n")) <= 998
    back, expected = (
        message_from_bytes(raw, policy=policy.default),
        message_from_bytes(wire(theirs), policy=policy.default),
    )
    for name in ("From", "To", "Subject", "List-Unsubscribe"):
        assert str(back[name]) == str(expected[name]) == str(ours[name])
    assert [a.addr_spec for a in back["To"].addresses] == [a.addr_spec for a in expected["To"].addresses]
    for kind in ("plain", "html"):
        got, want = back.get_body(preferencelist=(kind,)), expected.get_body(preferencelist=(kind,))
        assert got.get_content() == want.get_content()
        assert got.get_content_type() == want.get_content_type() and got.get_content_charset() == "utf-8"
        assert got["Content-Transfer-Encoding"] == "quoted-printable"
    assert back.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in back.iter_parts()] == ["text/plain", "text/html"]


def test_a_long_unsubscribe_url_goes_out_whole_never_encoded() -> None:
    msg = build_email(
        RenderedEmail("Hi", "<p>Hi</p>", "Hi\n"), sender="noreply@shop.example", recipient="ana@example.com",
        message_id=MID, date=AT, unsubscribe_url=LONG_URL, unsubscribe_mailto="mailto:u@shop.example?subject=t",
        unsubscribe_post=True,
    )  # fmt: skip
    raw = wire(msg)
    assert f"List-Unsubscribe: <{LONG_URL}>,\r\n <mailto:u@shop.example?subject=t>\r\n".encode() in raw
    assert b"=?utf-8?" not in raw
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
    # the policy the stdlib builds with encodes the same header (what this module avoids)
    stdlib = reference(RenderedEmail("Hi", "<p>Hi</p>", "Hi\n"), "a@b.example", "c@d.example", LONG_URL)
    assert b"=?utf-8?q?=3Chttps" in wire(stdlib)


def test_the_bytes_are_the_same_for_the_same_message_and_the_boundary_never_occurs_in_a_part() -> None:
    rendered = RenderedEmail("Hi", "<p>--=_ and ==== and =_</p>" * 50, "--=_x\n=_\n")
    first = wire(build_email(rendered, sender="a@b.example", recipient="c@d.example", message_id=MID, date=AT))
    again = wire(build_email(rendered, sender="a@b.example", recipient="c@d.example", message_id=MID, date=AT))
    assert first == again
    boundary = message_from_bytes(first, policy=policy.default).get_boundary()
    assert boundary is not None and boundary.startswith("=_")
    assert first.count(f"--{boundary}".encode()) == 3  # two parts and the closing delimiter
    back = message_from_bytes(first, policy=policy.default)
    assert back.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n") == "--=_x\n=_\n"


def test_an_unsubscribe_url_too_long_for_a_line_is_refused() -> None:
    with pytest.raises(ValueError, match="List-Unsubscribe"):
        build_email(
            RenderedEmail("Hi", "<p>Hi</p>", "Hi\n"), sender="a@b.example", recipient="c@d.example", message_id=MID,
            date=AT, unsubscribe_url="https://x.example/" + "a" * 1000, unsubscribe_post=True,
        )  # fmt: skip
