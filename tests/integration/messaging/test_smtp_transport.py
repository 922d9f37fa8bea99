"""SmtpTransport against a real SMTP server on loopback (aiosmtpd): what arrives (both parts, the
headers, the stable Message-ID, one-click unsubscribe), STARTTLS and implicit TLS with a self-signed
certificate, AUTH, a refused recipient as a permanent bounce, greylisting as a temporary failure, a
dropped connection reconnected once, and the one ambiguous loss reported as outcome unknown."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from aftersales.adapters.channels.smtp import SmtpTransport
from aftersales.core.messaging.context import personalisation
from aftersales.core.messaging.mime import build_email, message_id_for, text_part
from aftersales.core.messaging.templates import TemplateCatalog, render_email

from .conftest import PASSWORD, USER, SmtpSink

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CATALOG = TemplateCatalog.from_package()


def message(to: str = "ana@example.com", key: str = "msg_0001", *, marketing: bool = True):
    ctx = personalisation({"customer_id": "c1", "name": "Ana Ruiz"}, {"clv_tier": "above_average"})
    if marketing:
        ctx |= {
            "unsubscribe_url": "https://shop.example/v1/unsubscribe/TOK",
            "preferences_url": "https://shop.example/p",
        }
    rendered = render_email(CATALOG.resolve("thank-you", "de_CH"), ctx, locale="de_CH")
    return build_email(
        rendered,
        sender="Kaffee & Co <noreply@shop.example>",
        recipient=f"Ana Ruiz <{to}>",
        message_id=message_id_for(key, "shop.example"),
        date=AT,
        internal_id=key,
        unsubscribe_url="https://shop.example/v1/unsubscribe/TOK" if marketing else None,
        unsubscribe_post=marketing,
    )


def transport(sink: SmtpSink, **kw: object) -> SmtpTransport:
    return SmtpTransport("127.0.0.1", sink.port, timeout=10, **kw)  # type: ignore[arg-type]


def test_the_received_message_has_both_parts_and_every_header(smtp_sink):
    with transport(smtp_sink) as t:
        result = t.send(message())
    assert result.status == "sent" and result.code == 250, result
    [got] = smtp_sink.received
    assert got.mail_from == "noreply@shop.example" and got.rcpt_tos == ["ana@example.com"]
    msg = got.message
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert "Vielen Dank, Ana!" in text_part(msg)
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert 'style="' in html and "Vielen Dank, Ana!" in html
    assert msg["Subject"] == "Vielen Dank für Ihre Bestellung, Ana"
    assert msg["Message-ID"] == message_id_for("msg_0001", "shop.example")
    assert msg["X-Aftersales-Message"] == "msg_0001"
    assert msg["List-Unsubscribe"] == "<https://shop.example/v1/unsubscribe/TOK>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Date"] == "Mon, 02 Mar 2026 09:00:00 +0000"


def test_a_retry_carries_the_same_message_id_and_one_connection_serves_many(smtp_sink):
    with transport(smtp_sink) as t:
        results = [t.send(message(key=k)) for k in ("msg_a", "msg_b", "msg_a")]
        assert t.connections == 1
    assert [r.status for r in results] == ["sent"] * 3
    ids = smtp_sink.message_ids()
    assert ids[0] == ids[2] != ids[1]


def test_transactional_mail_has_no_unsubscribe_headers(smtp_sink):
    with transport(smtp_sink) as t:
        assert t.send(message(marketing=False)).ok
    msg = smtp_sink.received[0].message
    assert "List-Unsubscribe" not in msg and "List-Unsubscribe-Post" not in msg


def test_a_refused_recipient_is_a_permanent_bounce_and_the_connection_goes_on(smtp_sink, caplog):
    caplog.set_level(logging.DEBUG, logger="aftersales")
    with transport(smtp_sink) as t:
        refused = t.send(message(to="bounce.me@example.com"))
        after = t.send(message(to="ana@example.com", key="msg_next"))
        assert t.connections == 1
    assert (refused.status, refused.bounce, refused.code) == ("permanent_failure", True, 550)
    assert "bounce.me" not in refused.detail and "<address>" in refused.detail
    assert after.ok and len(smtp_sink.received) == 1
    assert "@" not in caplog.text


def test_greylisting_is_a_temporary_failure(smtp_sink):
    with transport(smtp_sink) as t:
        result = t.send(message(to="later@example.com"))
    assert (result.status, result.bounce, result.code) == ("temporary_failure", False, 451)


def test_auth_with_the_right_and_the_wrong_password(smtp_sink):
    with transport(smtp_sink, username=USER, password=PASSWORD) as t:
        assert t.send(message()).ok
    with transport(smtp_sink, username=USER, password="wrong") as t:
        result = t.send(message(key="msg_2"))
    assert (result.status, result.code) == ("temporary_failure", 535)
    assert len(smtp_sink.received) == 1


def test_a_dropped_connection_is_reconnected_once_without_a_duplicate(smtp_sink):
    t = transport(smtp_sink)
    assert t.send(message(key="msg_1")).ok
    smtp_sink.stop()  # the server goes away, taking the open connection with it
    smtp_sink.start()  # and comes back on the same port
    assert t.send(message(key="msg_2")).ok
    assert t.connections == 2
    assert smtp_sink.message_ids() == [message_id_for(k, "shop.example") for k in ("msg_1", "msg_2")]
    t.close()


def test_no_server_is_a_temporary_failure_not_an_exception(smtp_sink):
    smtp_sink.stop()
    result = transport(smtp_sink).send(message())
    assert result.status == "temporary_failure" and "cannot connect" in result.detail


def test_a_connection_lost_after_the_content_is_an_unknown_outcome(smtp_sink):
    with transport(smtp_sink) as t:
        result = t.send(message(to="vanish@example.com"))
        assert (result.status, result.outcome_unknown) == ("temporary_failure", True)
        assert t.send(message(key="msg_after")).ok  # the next send opens a new connection
    assert len(smtp_sink.received) == 2  # the server did get the first one: a retry would duplicate it


def test_starttls_with_a_self_signed_certificate_then_auth(starttls_sink, certificate):
    with transport(
        starttls_sink, security="starttls", username=USER, password=PASSWORD, ssl_context=certificate.client_context()
    ) as t:
        assert t.send(message()).ok
    assert len(starttls_sink.received) == 1


def test_starttls_refuses_an_untrusted_certificate(starttls_sink):
    result = transport(starttls_sink, security="starttls", username=USER, password=PASSWORD).send(message())
    assert result.status == "temporary_failure" and "SSLCertVerificationError" in result.detail
    assert starttls_sink.received == []


def test_a_plain_client_cannot_skip_required_starttls(starttls_sink):
    result = transport(starttls_sink).send(message())
    assert result.status != "sent" and starttls_sink.received == []


def test_starttls_is_never_dropped_silently(smtp_sink, certificate):
    result = transport(smtp_sink, security="starttls", ssl_context=certificate.client_context()).send(message())
    assert result.status == "temporary_failure" and "STARTTLS" in result.detail
    assert smtp_sink.received == []


def test_implicit_tls(tls_sink, certificate):
    with transport(tls_sink, security="tls", ssl_context=certificate.client_context()) as t:
        assert t.send(message()).ok
    assert tls_sink.message_ids() == [message_id_for("msg_0001", "shop.example")]


def test_bad_settings_are_refused_up_front():
    with pytest.raises(ValueError, match="security"):
        SmtpTransport("127.0.0.1", 25, security="ssl")
    with pytest.raises(ValueError, match="password"):
        SmtpTransport("127.0.0.1", 25, username="u")


def test_cc_and_bcc_are_recipients_and_bcc_never_leaves(smtp_sink):
    msg = message()
    msg["Cc"] = "cc@example.com"
    msg["Bcc"] = "hidden@example.com"
    with transport(smtp_sink) as t:
        assert t.send(msg).ok
    [got] = smtp_sink.received
    assert got.rcpt_tos == ["ana@example.com", "cc@example.com", "hidden@example.com"]
    assert "Bcc" not in got.message and b"hidden@" not in got.raw and msg["Bcc"] == "hidden@example.com"
