"""SSRF: webhook URLs that reach the server's own network are refused when subscribing, and again at
connect time on the resolved address (DNS rebinding).

Connections in these tests go to loopback only: connect-time refusal is exercised with loopback and
unspecified forms; private and link-local addresses appear only in validation, where nothing connects.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from datetime import UTC, datetime

import pytest

from aftersales.adapters.channels.webhooks import HttpWebhookSender
from aftersales.core.errors import ValidationError
from aftersales.services.operational import webhooks
from aftersales.services.operational.webhook_destinations import DestinationPolicy
from aftersales.services.operational.webhook_dispatch import dispatch_due
from aftersales.services.ports import SubscriptionRecord

LOOPBACK_FORMS = ["127.0.0.1", "127.1", "2130706433", "0x7f000001", "[::ffff:127.0.0.1]", "0.0.0.0", "[::1]"]
VALIDATION_ONLY = [  # never connected to: validation refuses them before any delivery exists
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://192.168.1.1/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://224.0.0.1/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata.goog/",
    "http://localhost:8000/",
    "http://api.localhost/",
    "http://intranet/",
    "http://printer.local/",
    "http://user:pass@127.0.0.1/",
    "http://017700000001/",
    "http://999.1.1.1/",
]


class Listener:
    """Counts TCP connections on one port of 127.0.0.1 and, when it can, of ::1; answers HTTP 204."""

    def __init__(self) -> None:
        self.accepted = 0
        self.v4 = socket.create_server(("127.0.0.1", 0))
        self.port = self.v4.getsockname()[1]
        self.socks = [self.v4]
        with contextlib.suppress(OSError):  # no IPv6 loopback: the [::1] cases skip
            self.socks.append(socket.create_server(("::1", self.port), family=socket.AF_INET6))
        for s in self.socks:
            threading.Thread(target=self._serve, args=(s,), daemon=True).start()

    @property
    def has_ipv6(self) -> bool:
        return len(self.socks) == 2

    def _serve(self, sock: socket.socket) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            self.accepted += 1
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")

    def close(self) -> None:
        for s in self.socks:
            s.close()


@pytest.fixture
def listener():
    lst = Listener()
    yield lst
    lst.close()


def _url(form: str, port: int) -> str:
    return f"http://{form}:{port}/hook"


@pytest.mark.parametrize("form", LOOPBACK_FORMS)
def test_subscribing_to_a_loopback_or_unspecified_form_is_refused(store, uow_factory, form) -> None:
    with pytest.raises(ValidationError) as caught:
        webhooks.register(uow_factory(store), _url(form, 5432), ["*"])
    assert caught.value.errors[0].loc == ("url",)


@pytest.mark.parametrize("url", VALIDATION_ONLY)
def test_subscribing_to_private_link_local_metadata_or_credential_urls_is_refused(url) -> None:
    refusal = DestinationPolicy().refusal(url)
    assert refusal is not None, url


def test_public_destinations_and_allowed_ones_are_accepted() -> None:
    assert DestinationPolicy().refusal("https://hooks.example.com/in") is None
    assert DestinationPolicy().refusal("http://93.184.216.34:8080/in") is None
    allow = DestinationPolicy.parse(["localhost", "10.0.0.0/8"])
    assert allow.refusal("http://localhost:8000/") is None and allow.refusal("http://10.1.2.3/") is None
    assert allow.refusal("http://11.0.0.1/") is None and allow.refusal("http://192.168.0.1/") is not None


@pytest.mark.parametrize("form", LOOPBACK_FORMS)
def test_the_sender_refuses_each_loopback_form_before_connecting(listener, form) -> None:
    if form == "[::1]" and not listener.has_ipv6:
        pytest.skip("no IPv6 loopback here")
    refused = HttpWebhookSender(2.0, DestinationPolicy()).send(_url(form, listener.port), "s", "{}", "dl_x", "t")
    assert refused.refused and refused.status_code is None and refused.error.startswith("refused:")
    assert "Connection" not in refused.error and str(listener.port) not in refused.error
    assert listener.accepted == 0
    # The same form reaches the listener once allowed: the refusal above is the policy, not the network.
    allowed = DestinationPolicy.parse(["127.0.0.0/8", "::1", "0.0.0.0/32"])
    assert HttpWebhookSender(2.0, allowed).send(_url(form, listener.port), "s", "{}", "dl_x", "t").status_code == 204
    assert listener.accepted == 1


def test_a_name_is_checked_on_the_address_it_resolves_to_at_connect_time(listener) -> None:
    """DNS rebinding: the name passed validation (nothing was resolved then); when it connects it
    resolves to loopback, and that address is what gets checked and, if allowed, connected to."""
    rebinding = "hooks.rebind.example"
    assert DestinationPolicy().refusal(f"http://{rebinding}/") is None

    def resolve(host: str, port: int) -> list[str]:
        assert host == rebinding
        return ["127.0.0.1"]

    sender = HttpWebhookSender(2.0, DestinationPolicy(), resolve=resolve)
    outcome = sender.send(f"http://{rebinding}:{listener.port}/hook", "s", "{}", "dl_x", "t")
    assert outcome.refused and listener.accepted == 0
    # localhost, resolved by the system (hosts file): refused too, unless allowed by name.
    system = HttpWebhookSender(2.0, DestinationPolicy())
    assert system.send(_url("localhost", listener.port), "s", "{}", "d", "t").refused
    by_name = HttpWebhookSender(2.0, DestinationPolicy.parse(["localhost"]))
    assert by_name.send(_url("localhost", listener.port), "s", "{}", "d", "t").status_code == 204


def test_a_stored_subscription_to_loopback_fails_with_a_neutral_reason_and_no_connection(
    store, uow_factory, listener
) -> None:
    """A subscription stored before the rule (or whose name now resolves to loopback) is refused when
    sent: failed at once, no retry, and the recorded error says nothing the network said."""
    uow = uow_factory(store)
    sub = SubscriptionRecord("wh_old", _url("127.1", listener.port), ("*",), "whsec_x", True, None, datetime.now(UTC))
    with uow() as u:
        u.webhooks.add_subscription(sub)
        (delivery_id,) = webhooks.publish(u, "order.created", {"order_id": "o-1"})
    sender = HttpWebhookSender(2.0, DestinationPolicy())
    assert dispatch_due(uow, sender, webhooks.RetryPolicy(max_attempts=5, base_s=0.0)) == 1
    with uow() as u:
        d = u.webhooks.get_delivery(delivery_id)
        attempts = u.webhooks.attempts(delivery_id)
    assert d is not None and d.status == "failed" and d.attempt_count == 1 and len(attempts) == 1
    assert d.last_error == attempts[0].error and attempts[0].error.startswith("refused: the destination is not")
    assert listener.accepted == 0
