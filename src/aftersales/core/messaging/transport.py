"""The e-mail transport port, its result, and how an SMTP reply is read.

A transport (``adapters/channels``: SMTP, the local .eml outbox) takes a built message and says what
happened as a :class:`SendResult`:

* ``sent``: the server took responsibility for the message (2xx after DATA), or the outbox holds it;
* ``temporary_failure``: try again later: a 4xx reply, a connection that could not be made or was
  lost, any refusal before ``MAIL FROM`` (a greeting, STARTTLS or login refused: a server or a
  configuration to fix; the messages wait for it rather than being lost);
* ``permanent_failure``: do not try again: a 5xx reply. ``bounce`` is True when the refusal is the
  recipient's address (5xx to RCPT TO, or an enhanced status ``5.1.x`` after DATA): a hard bounce,
  which suppresses the address.

``outcome_unknown`` marks the one ambiguous case of SMTP (RFC 5321 section 4.1.1.4): the connection
was lost after the message's end was sent and before the server's reply. The server may have
delivered it; resending may deliver it twice. The status is ``temporary_failure``; a sender that
must not duplicate records it as unknown instead of retrying.

``detail`` is for people and for the store: the server's reply with every e-mail address in it
replaced by ``<address>`` (:func:`scrub_addresses`), so no address is ever written to a log or a row.

>>> classify_smtp_reply(550, "5.1.1 <jane@example.com>: Recipient address rejected", stage="rcpt")
SendResult(status='permanent_failure', detail='550 5.1.1 <address>: Recipient address rejected', bounce=True, \
code=550, outcome_unknown=False)
>>> classify_smtp_reply(451, "4.7.1 Greylisted, try again", stage="rcpt").status
'temporary_failure'
>>> classify_smtp_reply(554, "5.7.1 Message rejected as spam", stage="data").bounce
False
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal, Protocol, runtime_checkable

__all__ = [
    "SEND_STATUSES",
    "EmailTransport",
    "SendResult",
    "SendStatus",
    "SmtpStage",
    "classify_smtp_reply",
    "scrub_addresses",
]

SendStatus = Literal["sent", "temporary_failure", "permanent_failure"]
SEND_STATUSES: tuple[SendStatus, ...] = ("sent", "temporary_failure", "permanent_failure")
#: Where in an SMTP transaction a reply came: the greeting/EHLO, STARTTLS, AUTH, MAIL FROM, RCPT TO, DATA.
SmtpStage = Literal["connect", "tls", "auth", "mail", "rcpt", "data"]

_ADDRESS = re.compile(r"[^\s<>\"'(),;:\[\]]+@[^\s<>\"'(),;:\[\]]+")
_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")


@dataclass(frozen=True)
class SendResult:
    """What one send attempt did (see the module)."""

    status: SendStatus
    detail: str = ""
    bounce: bool = False
    code: int | None = None
    outcome_unknown: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "sent"


@runtime_checkable
class EmailTransport(Protocol):
    """Delivers built messages. ``send`` never raises for a delivery problem: it returns a
    :class:`SendResult`. ``close`` releases what the transport holds (a connection)."""

    name: str

    def send(self, message: EmailMessage) -> SendResult: ...

    def close(self) -> None: ...


def scrub_addresses(text: str) -> str:
    """``text`` with every e-mail address replaced by ``<address>`` (and angle brackets kept once).

    >>> scrub_addresses("550 <a.b@x.org>: no such user; tried c@d.e")
    '550 <address>: no such user; tried <address>'
    """
    return _ADDRESS.sub("<address>", text).replace("<<address>>", "<address>")


def classify_smtp_reply(code: int, message: str | bytes, *, stage: SmtpStage) -> SendResult:
    """The :class:`SendResult` of SMTP reply ``code`` at ``stage`` (see the module's rules).

    2xx is ``sent``. 4xx is temporary, and so is 552 at RCPT TO (RFC 5321 section 4.5.3.1.10 has
    clients treat it as 452) and enhanced status ``5.2.2`` (mailbox full). Any refusal before the
    transaction (``connect``, ``tls``, ``auth``) is temporary: the server or the configuration is
    wrong, not the message. Other 5xx are
    permanent; a bounce when the recipient was refused (``rcpt``) or an enhanced status ``5.1.x``
    (bad address) says so after DATA."""
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    detail = scrub_addresses(f"{code} {' '.join(text.split())}".strip())
    if 200 <= code < 300:
        return SendResult("sent", detail, code=code)
    enhanced = _ENHANCED.match(text)
    mailbox_full = enhanced is not None and enhanced.group(1, 2, 3) == ("5", "2", "2")
    before_transaction = stage in ("connect", "tls", "auth")
    if code < 500 or before_transaction or (stage == "rcpt" and code == 552) or mailbox_full:
        return SendResult("temporary_failure", detail, code=code)
    address_refused = stage == "rcpt" or (
        stage == "data" and enhanced is not None and enhanced.group(1) == "5" and enhanced.group(2) == "1"
    )
    return SendResult("permanent_failure", detail, bounce=address_refused, code=code)
