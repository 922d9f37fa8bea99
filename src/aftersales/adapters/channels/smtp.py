"""SMTP transport on :mod:`smtplib`: one connection kept open across sends, reconnected when dropped.

``security`` is ``none`` (plain, loopback and relays on a trusted network), ``starttls`` (upgrade
after EHLO; a server that does not offer it is a failure, never a silent fall-back to plain text) or
``tls`` (implicit TLS, usually port 465). The server's certificate is verified against the system's
trust store unless an ``ssl_context`` says otherwise (a private CA, a test certificate). With a
``username`` the transport logs in (``AUTH``) after TLS.

Each :meth:`SmtpTransport.send` runs ``MAIL FROM`` (the From address, or ``envelope_from`` for a
bounce address), ``RCPT TO`` (each To, Cc and Bcc address; the ``Bcc`` header itself is not
sent), ``DATA``, and turns the replies into a :class:`~aftersales.core.messaging.transport.SendResult`
with :func:`~aftersales.core.messaging.transport.classify_smtp_reply`. A refused transaction is reset
(``RSET``) so the connection serves the next message. When the server offers ``PIPELINING`` (RFC
2920; Postfix, Exim, the big relays do) and the message has one recipient with a plain ASCII address,
``MAIL FROM``, ``RCPT TO`` and ``DATA`` go out in one write and their replies are read in order: two
round trips per message (envelope, content) instead of four, which is most of the client's time
against a relay a few milliseconds away.

**Dropped connections.** A server closes idle connections (often after a few minutes, sometimes with
a ``421``). When the connection fails before any of the message was accepted (at ``MAIL FROM``), the
transport reconnects once and starts the message again: nothing can have been delivered, so this
cannot duplicate. A connection lost after the message's content was sent and before the server's
reply is *not* retried: the result is a temporary failure with ``outcome_unknown`` set (the server
may have delivered it). Connection failures are temporary failures; ``send`` never raises for them.

Logging: the server's host and port and SMTP codes only; never an address (server replies are
scrubbed by ``scrub_addresses`` before they reach a result's ``detail``).
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import re
import smtplib
import socket
import ssl
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from types import TracebackType
from typing import Literal

from aftersales.core.messaging.transport import SendResult, SmtpStage, classify_smtp_reply, scrub_addresses

__all__ = ["SECURITY_MODES", "SmtpTransport"]

log = logging.getLogger(__name__)

Security = Literal["none", "starttls", "tls"]
SECURITY_MODES: tuple[Security, ...] = ("none", "starttls", "tls")

#: Errors that mean the connection is gone (or never came): reconnect, or report a temporary failure.
_CONNECTION_ERRORS = (smtplib.SMTPServerDisconnected, ConnectionError, socket.timeout, TimeoutError, OSError)


class _Refused(Exception):
    """A reply that ends the transaction (carries its classification)."""

    def __init__(self, result: SendResult) -> None:
        super().__init__(result.detail)
        self.result = result


class SmtpTransport:
    """An :class:`~aftersales.core.messaging.transport.EmailTransport` over SMTP (see the module)."""

    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        security: str = "none",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
        envelope_from: str | None = None,
    ) -> None:
        if security not in SECURITY_MODES:
            raise ValueError(f"SMTP security must be one of {', '.join(SECURITY_MODES)}, not {security!r}")
        if username and password is None:
            raise ValueError("an SMTP username needs a password")
        self.host, self.port, self.security = host, port, security
        self._username, self._password = username, password
        self._timeout = timeout
        self._ssl_context = ssl_context
        self._local_hostname = local_hostname
        self._envelope_from = envelope_from
        self._conn: smtplib.SMTP | None = None
        #: Connections opened so far (the first, then one per reconnect): for tests and metrics.
        self.connections = 0

    # -- connection --------------------------------------------------------------------------------
    def _context(self) -> ssl.SSLContext:
        return self._ssl_context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        """A connected, greeted (and, as configured, encrypted and logged-in) connection; raises
        :class:`_Refused` for a refusing server and a connection error when none can be made."""
        stage: SmtpStage = "connect"
        conn: smtplib.SMTP | None = None
        try:
            if self.security == "tls":
                conn = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self._timeout, context=self._context(),
                    local_hostname=self._local_hostname,
                )  # fmt: skip
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self._timeout, local_hostname=self._local_hostname)
            code, reply = conn.ehlo()
            if code != 250:
                raise smtplib.SMTPResponseException(code, reply)
            if self.security == "starttls":
                stage = "tls"
                if not conn.has_extn("starttls"):
                    raise _Refused(SendResult("temporary_failure", "the server does not offer STARTTLS"))
                conn.starttls(context=self._context())
                conn.ehlo()
            if self._username:
                stage = "auth"
                conn.login(self._username, self._password or "")
        except smtplib.SMTPNotSupportedError:
            _quietly_close(conn)
            raise _Refused(SendResult("temporary_failure", f"the server does not offer {stage.upper()}")) from None
        except smtplib.SMTPResponseException as exc:
            _quietly_close(conn)
            raise _Refused(classify_smtp_reply(exc.smtp_code, exc.smtp_error, stage=stage)) from None
        except smtplib.SMTPServerDisconnected:
            _quietly_close(conn)
            raise
        except smtplib.SMTPException as exc:  # e.g. no AUTH mechanism in common
            _quietly_close(conn)
            raise _Refused(SendResult("temporary_failure", scrub_addresses(f"{stage}: {exc}"))) from None
        except BaseException:
            _quietly_close(conn)
            raise
        self.connections += 1
        log.info("smtp connected to %s:%s (%s)", self.host, self.port, self.security)
        return conn

    def close(self) -> None:
        """Say QUIT and close the connection (the next send opens a new one)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                _quietly_close(conn)

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            _quietly_close(conn)

    # -- sending -----------------------------------------------------------------------------------
    def send(self, message: EmailMessage) -> SendResult:
        """Deliver ``message`` to its To addresses; never raises for a delivery problem."""
        sender, recipients = _envelope(message)
        sender = self._envelope_from or sender
        if not sender or not recipients:
            return SendResult("permanent_failure", "the message has no From or no To address")
        payload = _flatten(message)
        for attempt in (1, 2):
            reused = self._conn is not None
            try:
                conn = self._conn or self._connect()
            except _Refused as refused:
                return refused.result
            except _CONNECTION_ERRORS as exc:
                log.warning("smtp connection to %s:%s failed: %s", self.host, self.port, type(exc).__name__)
                return SendResult("temporary_failure", f"cannot connect to the SMTP server ({type(exc).__name__})")
            self._conn = conn
            try:
                return self._transaction(conn, sender, recipients, payload)
            except _Retry:
                self._drop()
                if attempt == 1 and reused:
                    log.info("smtp connection to %s:%s was dropped; reconnecting once", self.host, self.port)
                    continue
                return SendResult("temporary_failure", "the SMTP connection was lost before the message was sent")
            except _Lost as lost:
                self._drop()
                return lost.result
        raise AssertionError("unreachable")  # pragma: no cover

    def _transaction(self, conn: smtplib.SMTP, sender: str, recipients: list[str], payload: bytes) -> SendResult:
        options = _mail_options(conn, sender, recipients, payload)
        if isinstance(options, SendResult):
            return options
        # Until the message's content is sent, a lost connection delivered nothing: safe to retry.
        try:
            if _can_pipeline(conn, sender, recipients, options):
                refused = self._envelope_pipelined(conn, sender, recipients[0], options)
            else:
                refused = self._envelope(conn, sender, recipients, options)
        except _CONNECTION_ERRORS:
            raise _Retry() from None
        if refused is not None:
            return refused
        try:
            conn.send(_dot_terminated(payload))
            code, reply = conn.getreply()
        except _CONNECTION_ERRORS:
            raise _Lost(
                SendResult(
                    "temporary_failure",
                    "the SMTP connection was lost after the message was sent: outcome unknown",
                    outcome_unknown=True,
                )
            ) from None
        result = classify_smtp_reply(code, reply, stage="data")
        if not result.ok:
            log.warning("smtp server %s:%s refused a message after DATA (%s)", self.host, self.port, code)
        return result

    def _envelope(
        self, conn: smtplib.SMTP, sender: str, recipients: list[str], options: list[str]
    ) -> SendResult | None:
        """``MAIL FROM``, each ``RCPT TO``, ``DATA``, one reply at a time; None when the server waits
        for the content, else the refusal (the transaction reset)."""
        code, reply = conn.mail(sender, options)
        if code == 421:  # the server is closing the channel
            raise _Retry()
        if code != 250:
            return self._reset(conn, classify_smtp_reply(code, reply, stage="mail"))
        for rcpt in recipients:
            code, reply = conn.rcpt(rcpt)
            if code not in (250, 251):
                return self._reset(conn, classify_smtp_reply(code, reply, stage="rcpt"))
        code, reply = conn.docmd("DATA")
        if code != 354:
            return self._reset(conn, classify_smtp_reply(code, reply, stage="data"))
        return None

    def _envelope_pipelined(self, conn: smtplib.SMTP, sender: str, rcpt: str, options: list[str]) -> SendResult | None:
        """The same three commands sent at once and their replies read in order (RFC 2920, for a
        server that offers ``PIPELINING``): one round trip instead of three. With one recipient a
        refused ``MAIL`` or ``RCPT`` makes the server refuse ``DATA`` too (RFC 2920 section 3.1:
        no valid recipient); should it answer 354 anyway, an empty content ends the transaction,
        delivered to nobody, before the reset."""
        extra = " " + " ".join(options) if options else ""
        conn.send(f"MAIL FROM:{smtplib.quoteaddr(sender)}{extra}\r\nRCPT TO:{smtplib.quoteaddr(rcpt)}\r\nDATA\r\n")
        (mail, mail_reply), (to, to_reply), (data, data_reply) = conn.getreply(), conn.getreply(), conn.getreply()
        if mail == 421:
            raise _Retry()
        if mail != 250 or to not in (250, 251):
            if data == 354:
                conn.send(".\r\n")
                conn.getreply()
            if mail != 250:
                return self._reset(conn, classify_smtp_reply(mail, mail_reply, stage="mail"))
            return self._reset(conn, classify_smtp_reply(to, to_reply, stage="rcpt"))
        if data != 354:
            return self._reset(conn, classify_smtp_reply(data, data_reply, stage="data"))
        return None

    def _reset(self, conn: smtplib.SMTP, result: SendResult) -> SendResult:
        log.info("smtp server %s:%s refused a transaction (%s)", self.host, self.port, result.code)
        try:
            conn.rset()
        except _CONNECTION_ERRORS:
            self._drop()
        return result


class _Retry(Exception):
    """The connection failed before any of the message was accepted: safe to reconnect and retry."""


class _Lost(Exception):
    """The connection failed mid-transaction: report, do not retry here."""

    def __init__(self, result: SendResult) -> None:
        super().__init__(result.detail)
        self.result = result


def _quietly_close(conn: smtplib.SMTP | None) -> None:
    if conn is not None:
        with contextlib.suppress(OSError):  # closing a broken socket
            conn.close()


def _envelope(message: EmailMessage) -> tuple[str, list[str]]:
    """The From address and every To, Cc and Bcc address, read from the headers' stored text
    (``raw_items``: no header object is built; an address reads the same either way)."""
    sender, fields = "", []
    for name, value in message.raw_items():
        key = name.lower()
        if key == "from" and not sender:
            sender = parseaddr(str(value))[1]
        elif key in ("to", "cc", "bcc"):
            fields.append(str(value))
    return sender, [addr for _, addr in getaddresses(fields) if addr]


def _flatten(message: EmailMessage) -> bytes:
    """The message as bytes with CRLF line ends (``Bcc`` never leaves: it is removed first)."""
    buf = io.BytesIO()
    out = message
    if "Bcc" in message:  # as smtplib.send_message does: a shallow copy without it
        out = copy.copy(message)
        del out["Bcc"]
    BytesGenerator(buf, mangle_from_=False, policy=message.policy.clone(linesep="\r\n")).flatten(out)
    return buf.getvalue()


def _mail_options(conn: smtplib.SMTP, sender: str, recipients: list[str], payload: bytes) -> list[str] | SendResult:
    """``MAIL FROM`` parameters: ``SMTPUTF8`` for non-ASCII addresses, ``BODY=8BITMIME`` for 8-bit
    content (messages from ``build_email`` are 7-bit and need neither)."""
    options: list[str] = []
    if not all(a.isascii() for a in [sender, *recipients]):
        if not conn.has_extn("smtputf8"):
            return SendResult("permanent_failure", "a non-ASCII address, and the server does not offer SMTPUTF8")
        options.append("SMTPUTF8")
    if not payload.isascii() and conn.has_extn("8bitmime"):
        options.append("BODY=8BITMIME")
    return options


def _can_pipeline(conn: smtplib.SMTP, sender: str, recipients: list[str], options: list[str]) -> bool:
    """Pipeline the envelope when the server offers it, for one recipient with plain ASCII addresses
    (no ``SMTPUTF8``; several recipients, some of which may be refused, keep the one-by-one dialogue)."""
    plain = all(a.isascii() and "\r" not in a and "\n" not in a for a in (sender, *recipients))
    return len(recipients) == 1 and plain and "SMTPUTF8" not in options and conn.has_extn("pipelining")


def _dot_terminated(payload: bytes) -> bytes:
    """DATA's content: lines starting with a dot doubled (RFC 5321 section 4.5.2), then CRLF . CRLF."""
    quoted = re.sub(rb"(?m)^\.", b"..", payload)
    if not quoted.endswith(b"\r\n"):
        quoted += b"\r\n"
    return quoted + b".\r\n"
