"""MIME assembly of an e-mail, its stable Message-ID, and reading one back (the outbox, tests).

Every message is ``multipart/alternative``: ``text/plain`` first, ``text/html`` last (RFC 2046: the
last part is the richest one a client can show), both UTF-8 and quoted-printable, so the message is
7-bit clean and no line exceeds SMTP's 998 characters however long the inlined HTML is.

**Built for speed, read like any message.** A worker builds one message per send, so the common
headers are stored as the exact text that goes on the wire (``Message.set_raw``: ASCII, one line
that fits in 78 characters) instead of being parsed into header objects and folded again, the
bodies are quoted-printable encoded by :func:`binascii.b2a_qp` (C) and the multipart boundary is
derived from the Message-ID (``=_`` and hex: it cannot occur in quoted-printable text, where ``=``
is always followed by two hex digits or a line end). This is 5-10 times cheaper than
``email.policy.default``'s header parsing and ``set_content``, and reads back the same:
``msg["To"]``, ``get_body``, ``get_content`` parse on access as for any message. Values that are
not plain ASCII or too long for one line (a subject in German, a display name with accents) still
take the policy's path, which encodes (RFC 2047) and folds them.

``List-Unsubscribe`` is never encoded: RFC 2369 makes it a list of ``<URL>``s, and an encoded word
there is no URL to a mailbox provider (``email.policy.default`` encodes a header line longer than 78
characters, which every real unsubscribe URL with its signed token is). Each URL is written whole,
one per line (folded after the comma); a line may be up to SMTP's 998 characters.

Headers: ``From``, ``To``, ``Subject``, ``Date``, ``Message-ID``; ``X-Aftersales-Message`` carries
the store's message id (``msg_<hex>``: no personal data), so a bounce or a reply can be matched to it.
For marketing e-mail, ``List-Unsubscribe: <https://...>`` (plus ``<mailto:...>`` when given) and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058: a mailbox provider POSTs that body
to the URL when the reader clicks "unsubscribe"; providers honour only ``https`` URLs).

The Message-ID is derived from the message's key, so a retry of the same (enrollment, step) carries
the same one, and a receiver (or the .eml outbox) can drop the repeat:

>>> message_id_for("msg_0a1b2c", "shop.example")
'<as.13b8f9d0dbe92ede4565a4e07669e283@shop.example>'
>>> mask_address("jane.doe@example.com"), mask_address("Jane <j@example.com>"), mask_address("nobody")
('j***@example.com', 'j***@example.com', '***')
"""

from __future__ import annotations

import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr, parsedate_to_datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # reading messages back (the outbox listing) must not load Jinja2
    from aftersales.core.messaging.templates import RenderedEmail

__all__ = [
    "MESSAGE_HEADER",
    "MessageSummary",
    "build_email",
    "domain_of",
    "mask_address",
    "message_id_for",
    "summarize",
    "text_part",
]

#: The header holding the store's own message id.
MESSAGE_HEADER = "X-Aftersales-Message"
_RESERVED = frozenset(
    h.lower()
    for h in (
        "From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
        "Content-Transfer-Encoding", "List-Unsubscribe", "List-Unsubscribe-Post", MESSAGE_HEADER,
    )
)  # fmt: skip
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_MSGID = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")


def message_id_for(message_key: str, domain: str) -> str:
    """The RFC 5322 Message-ID of the message keyed ``message_key`` sent from ``domain``: the same key
    always gives the same id (``<as.`` + 128 bits of SHA-256 of the key + ``@domain>``)."""
    if not _DOMAIN.match(domain):
        raise ValueError(f"not a domain for a Message-ID: {domain[:80]!r}")
    digest = hashlib.sha256(message_key.encode("utf-8")).hexdigest()[:32]
    return f"<as.{digest}@{domain.lower()}>"


def domain_of(address: str) -> str:
    """The domain of an address (``Shop <noreply@shop.example>`` -> ``shop.example``); ``localhost``
    when it has none."""
    _, addr = parseaddr(address)
    domain = addr.rpartition("@")[2].strip().strip("[]") if "@" in addr else ""
    return domain.lower() if _DOMAIN.match(domain) else "localhost"


def mask_address(address: str) -> str:
    """``jane@example.com`` -> ``j***@example.com``: enough to tell messages apart, not to mail anyone."""
    _, addr = parseaddr(address)
    local, at, domain = (addr or address).rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def _header_safe(value: str, what: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"{what} must be one line")
    return value


def build_email(
    rendered: RenderedEmail,
    *,
    sender: str,
    recipient: str,
    message_id: str,
    date: datetime,
    internal_id: str | None = None,
    unsubscribe_url: str | None = None,
    unsubscribe_mailto: str | None = None,
    unsubscribe_post: bool = False,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """The message to send: ``rendered``'s text and HTML as ``multipart/alternative`` with the
    headers in the module's description. ``date`` must be timezone-aware (the core reads no clock).

    ``unsubscribe_post`` (marketing) adds the RFC 8058 one-click header, which needs
    ``unsubscribe_url``. ``headers`` adds more (``Reply-To``, ``X-Campaign``...); the ones set here
    cannot be overridden through it. ``ValueError`` for a malformed Message-ID, a naive date, an
    unsubscribe URL that is not http(s), or a header value with a line break."""
    if not _MSGID.match(message_id):
        raise ValueError(f"not a Message-ID (<id@domain>): {message_id[:80]!r}")
    if date.tzinfo is None or date.utcoffset() is None:
        raise ValueError("the Date of an e-mail must be timezone-aware")
    if unsubscribe_url is not None and not unsubscribe_url.lower().startswith(("https://", "http://")):
        raise ValueError("the unsubscribe URL must be an http(s) URL")
    if unsubscribe_post and not unsubscribe_url:
        raise ValueError("List-Unsubscribe-Post (one-click) needs an unsubscribe URL")
    msg = EmailMessage(policy=policy.default)
    _put(msg, "From", _header_safe(sender, "the sender"))
    _put(msg, "To", _header_safe(recipient, "the recipient"))
    _put(msg, "Subject", _header_safe(rendered.subject, "the subject"))
    msg.set_raw("Date", format_datetime(date))
    msg.set_raw("Message-ID", message_id)
    if internal_id:
        _put(msg, MESSAGE_HEADER, _header_safe(internal_id, "the message id"))
    links = [f"<{_header_safe(u, 'the unsubscribe URL')}>" for u in (unsubscribe_url, unsubscribe_mailto) if u]
    if links:
        msg.set_raw("List-Unsubscribe", _Verbatim("List-Unsubscribe", [f"{link}," for link in links[:-1]] + links[-1:]))
    if unsubscribe_post:
        msg.set_raw("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    for name, value in (headers or {}).items():
        if name.lower() in _RESERVED:
            raise ValueError(f"header {name} is set by build_email and cannot be overridden")
        msg[name] = _header_safe(value, f"header {name}")
    boundary = "=_" + hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:32]
    msg.set_raw("MIME-Version", _Verbatim("MIME-Version", ["1.0"]))
    msg.set_raw("Content-Type", _Verbatim("Content-Type", ["multipart/alternative;", f'boundary="{boundary}"']))
    msg.attach(_text_part(rendered.text, "plain"))
    msg.attach(_text_part(rendered.html, "html"))
    return msg


_FITS = 78  # RFC 5322's recommended line length, email.policy.default's max_line_length
_WIRE_MAX = 998  # RFC 5322's limit for a line


def _put(msg: EmailMessage, name: str, value: str) -> None:
    """Store ``value`` as it goes on the wire when it is ASCII and fits one line (parsed only if
    someone reads it); otherwise let the policy parse, encode and fold it (module docstring)."""
    if value.isascii() and len(name) + 2 + len(value) <= _FITS:
        msg.set_raw(name, value)
    else:
        msg[name] = value


class _Verbatim(str):
    """A header written exactly as given, its ``lines`` joined by the policy's line end and a space,
    never encoded; its value is the lines joined by a space. It follows the protocol of
    ``email.headerregistry``'s header objects (a ``str`` with a ``name`` and ``fold(policy=)``),
    which ``email.policy.EmailPolicy`` stores, returns and folds as given. Used for the headers
    only the library reads (``Content-Type``: the generator reads it on every flatten, and a raw
    value would be parsed each time) and for ``List-Unsubscribe`` (module docstring)."""

    name: str
    lines: tuple[str, ...]

    def __new__(cls, name: str, lines: list[str]) -> _Verbatim:
        for line in lines:
            if not line.isascii() or len(name) + 2 + len(line) > _WIRE_MAX:
                raise ValueError(f"{name}: each part must be ASCII and fit a line of {_WIRE_MAX} characters")
        self = super().__new__(cls, " ".join(lines))
        self.name, self.lines = name, tuple(lines)
        return self

    def fold(self, *, policy: Any) -> str:
        return f"{self.name}: {(policy.linesep + ' ').join(self.lines)}{policy.linesep}"


def _text_part(body: str, subtype: str) -> EmailMessage:
    """A UTF-8, quoted-printable ``text/<subtype>`` part (line ends normalised, a final newline, as
    ``set_content`` makes them)."""
    part = EmailMessage(policy=policy.default)
    part.set_raw("Content-Type", _Verbatim("Content-Type", [f'text/{subtype}; charset="utf-8"']))
    part.set_raw("Content-Transfer-Encoding", _Verbatim("Content-Transfer-Encoding", ["quoted-printable"]))
    data = b"\n".join(body.encode("utf-8").splitlines()) + b"\n"
    part.set_payload(binascii.b2a_qp(data, istext=True).decode("ascii"))
    return part


@dataclass(frozen=True)
class MessageSummary:
    """What a listing shows of one message: its ids, time, subject and (full) addresses. Mask the
    recipient (:func:`mask_address`) before showing it anywhere it could be logged."""

    message_id: str
    internal_id: str | None
    date: datetime | None
    subject: str
    sender: str
    recipient: str


def summarize(message: EmailMessage) -> MessageSummary:
    """The :class:`MessageSummary` of a message (headers only; a missing or bad Date is None)."""
    try:
        sent = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        sent = None
    recipients = ", ".join(addr for _, addr in getaddresses([str(v) for v in message.get_all("To", [])]))
    internal = message[MESSAGE_HEADER]
    return MessageSummary(
        message_id=str(message["Message-ID"] or "").strip(),
        internal_id=str(internal) if internal else None,
        date=sent,
        subject=str(message["Subject"] or ""),
        sender=str(message["From"] or ""),
        recipient=recipients,
    )


def text_part(message: EmailMessage) -> str:
    """The message's plain-text body (its ``text/plain`` part, decoded); empty when it has none."""
    part = message.get_body(preferencelist=("plain",))
    return str(part.get_content()) if part is not None else ""
