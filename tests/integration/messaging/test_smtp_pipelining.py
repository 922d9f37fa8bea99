"""SmtpTransport and PIPELINING (RFC 2920) against a real aiosmtpd server on loopback that offers it:
the envelope (MAIL FROM, RCPT TO, DATA) goes out in one write, which a recording TCP relay between the
two proves (the client's RCPT reached the relay before the server's reply to MAIL went back); the
message arrives whole; a refused recipient is a bounce and the connection serves the next message; a
server that does not offer PIPELINING gets the one-by-one dialogue."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from aftersales.adapters.channels.smtp import SmtpTransport
from aftersales.core.messaging.mime import build_email, message_id_for
from aftersales.core.messaging.templates import RenderedEmail

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class _Handler:
    pipelining: bool
    received: list[bytes] = field(default_factory=list)

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]) -> Any:
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]] if self.pipelining else responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list) -> str:
        if address.startswith("bounce"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope.original_content or envelope.content)
        return "250 OK"


class Relay:
    """A TCP relay on loopback in front of the server that records, in order, what each side sent."""

    def __init__(self, upstream: int) -> None:
        self.upstream, self.events, self.lock = upstream, [], threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.upstream))
            for s in (client, server):  # pass each chunk on at once (no Nagle delay on the relay's writes)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pump, args=(client, server, "client"), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, "server"), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, side: str) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                for s in (src, dst):
                    s.close()
                return
            with self.lock:  # recorded before it is passed on: the order is the order of arrival
                self.events.append((side, data.upper()))
            dst.sendall(data)

    def rcpt_before_mail_reply(self) -> bool:
        """Whether the client's RCPT TO arrived before the server's first reply after MAIL FROM."""
        with self.lock:
            events = list(self.events)
        mail = next(i for i, (side, d) in enumerate(events) if side == "client" and b"MAIL FROM" in d)
        rcpt = next(i for i, (side, d) in enumerate(events) if side == "client" and b"RCPT TO" in d)
        reply = next(i for i, (side, _) in enumerate(events) if side == "server" and i > mail)
        return rcpt < reply

    def close(self) -> None:
        self.listener.close()


@pytest.fixture(params=[True, False], ids=["pipelining", "one-by-one"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[_Handler, Relay]]:
    handler = _Handler(pipelining=request.param)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    relay = Relay(port)
    yield handler, relay
    relay.close()
    controller.stop()


def message(to: str, key: str):
    rendered = RenderedEmail("Hello", "<p>Hello</p>", "Hello\n.dot line\n")
    return build_email(
        rendered, sender="Shop <noreply@shop.example>", recipient=to, message_id=message_id_for(key, "shop.example"),
        date=AT, internal_id=key,
    )  # fmt: skip


def test_the_envelope_goes_out_in_one_write_when_the_server_offers_pipelining(server) -> None:
    handler, relay = server
    with SmtpTransport("127.0.0.1", relay.port, timeout=10) as t:
        first = t.send(message("ana@example.com", "msg_1"))
        bounced = t.send(message("bounce@example.com", "msg_2"))
        after = t.send(message("bob@example.com", "msg_3"))
        assert t.connections == 1
    assert first.status == "sent" and after.status == "sent"
    assert bounced.status == "permanent_failure" and bounced.bounce and bounced.code == 550
    assert "bounce@example.com" not in bounced.detail
    assert relay.rcpt_before_mail_reply() is handler.pipelining
    assert len(handler.received) == 2
    got = message_from_bytes(handler.received[0], policy=policy.default)
    assert got["Message-ID"] == message_id_for("msg_1", "shop.example")
    assert got.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n") == "Hello\n.dot line\n"
