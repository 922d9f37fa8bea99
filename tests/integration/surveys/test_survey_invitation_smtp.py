"""An invitation e-mail through a real SMTP server on loopback (aiosmtpd), its "8" clicked over HTTP,
the follow-ups answered: one response, stored once (SQLite and PostgreSQL). The journey step that
will send invitations is not built yet; this drives the same pieces it will use."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime
from email import message_from_bytes, policy
from typing import Any

from aiosmtpd.controller import Controller

from aftersales.adapters.channels.smtp import SmtpTransport
from aftersales.core.messaging.context import personalisation
from aftersales.core.messaging.mime import build_email, message_id_for
from aftersales.core.messaging.templates import TemplateCatalog, render_email
from aftersales.core.surveys.parse import parse_survey
from aftersales.services.operational.surveys import definitions, sends
from aftersales.services.operational.surveys.links import survey_invitation_context

from .conftest import NPS_DOC, Site


class _Sink:
    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope.content)
        return "250 OK"


def test_an_invitation_by_smtp_then_one_click_then_the_follow_ups(site: Site) -> None:
    now = datetime.now(UTC)
    definitions.apply(site.store.uow, parse_survey(NPS_DOC), now=now)
    opened = sends.open_send(site.store.uow, "post-delivery-nps", "c1", key="msg_1", now=now, order_id="o0")
    assert opened.send is not None
    survey = parse_survey(NPS_DOC)
    invitation = survey_invitation_context(opened.send, now, links=site.store.links, survey=survey, locale="en")
    context = personalisation({"customer_id": "c1", "name": "Ana Ruiz"}, None, extra={**invitation, "brand": "Shop"})
    rendered = render_email(TemplateCatalog.from_package().resolve("survey-nps", "en"), context, locale="en")
    message = build_email(
        rendered, sender="shop@example.com", recipient="c1@example.com",
        message_id=message_id_for("msg_1", "example.com"), date=now,
    )  # fmt: skip
    sink = _Sink()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        transport = SmtpTransport("127.0.0.1", port, timeout=10)
        assert transport.send(message).status == "sent"
        transport.close()
    finally:
        controller.stop()
    [raw] = sink.received
    received = message_from_bytes(raw, policy=policy.default)
    html = received.get_body(("html",)).get_content()  # type: ignore[union-attr]
    links = dict(re.findall(r'href="([^"]+\?score=(\d+))"', html))
    by_score = {int(score): url for url, score in links.items()}
    assert sorted(by_score) == list(range(11))
    eight = by_score[8].replace("&amp;", "&").removeprefix(site.url)
    with site.client() as browser:
        first = browser.get(eight)
        again = browser.get(eight)  # a second click on the same score
        done = browser.post(eight.split("?")[0], data={"score": "8", "dim_shipping": "9", "comment": "Quick"})
    assert first.status_code == again.status_code == done.status_code == 200
    assert "Thank you!" in done.text
    rows = sorted((r["dimension"], r["score"], r["comment"]) for r in site.store.rows("survey_responses"))
    assert rows == [("overall", 8, "Quick"), ("shipping", 9, None)]
    assert [e["name"] for e in site.store.rows("events")] == ["survey.responded"]
    [send] = site.store.rows("survey_sends")
    assert send["status"] == "answered"
