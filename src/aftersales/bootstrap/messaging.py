"""Composition of the e-mail channel: which transport the settings pick, the shipped templates, the
.eml outbox for the CLI (docs/email.md).

Settings (``AFTERSALES_*``): ``email_transport`` = ``outbox`` (default: .eml files in
``outbox_dir``) or ``smtp`` (``smtp_host``, ``smtp_port``, ``smtp_security`` none|starttls|tls,
``smtp_username``, ``smtp_password``, ``smtp_timeout_s``); ``mail_from`` (the From address and the
domain of every Message-ID).
"""

from __future__ import annotations

from email.message import EmailMessage
from functools import lru_cache
from typing import TYPE_CHECKING

from aftersales.config import Settings, get_settings
from aftersales.core.errors import FieldError, ValidationError

if TYPE_CHECKING:
    from aftersales.adapters.channels.outbox_dir import EmlOutbox
    from aftersales.core.messaging.mime import MessageSummary
    from aftersales.core.messaging.templates import TemplateCatalog
    from aftersales.core.messaging.transport import EmailTransport

__all__ = [
    "EMAIL_TRANSPORTS",
    "email_transport",
    "mail_domain",
    "outbox_message",
    "outbox_messages",
    "template_catalog",
]

EMAIL_TRANSPORTS = ("outbox", "smtp")


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError(f"AFTERSALES_{field.upper()}: {message}", [FieldError((field,), message)])


def email_transport(settings: Settings | None = None) -> EmailTransport:
    """The transport the settings name: the .eml outbox or SMTP (a new one per call: each worker
    keeps its own SMTP connection). An unknown name or SMTP security is a ValidationError naming
    the setting."""
    s = settings or get_settings()
    kind = s.email_transport.strip().lower()
    if kind == "outbox":
        from aftersales.adapters.channels.outbox_dir import EmlOutbox

        return EmlOutbox(s.outbox_dir, durable=s.outbox_fsync)
    if kind == "smtp":
        from aftersales.adapters.channels.smtp import SECURITY_MODES, SmtpTransport

        security = s.smtp_security.strip().lower()
        if security not in SECURITY_MODES:
            raise _invalid("smtp_security", f"{s.smtp_security!r} is not one of {', '.join(SECURITY_MODES)}")
        if s.smtp_username and s.smtp_password is None:
            raise _invalid("smtp_password", "an SMTP username needs a password")
        return SmtpTransport(
            s.smtp_host,
            s.smtp_port,
            security=security,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password is not None else None,
            timeout=s.smtp_timeout_s,
        )
    raise _invalid("email_transport", f"{s.email_transport!r} is not one of {', '.join(EMAIL_TRANSPORTS)}")


def mail_domain(settings: Settings | None = None) -> str:
    """The domain of ``mail_from``: the right-hand side of every Message-ID."""
    from aftersales.core.messaging.mime import domain_of

    return domain_of((settings or get_settings()).mail_from)


@lru_cache(maxsize=1)
def template_catalog() -> TemplateCatalog:
    """The templates shipped with aftersales (read once per process)."""
    from aftersales.core.messaging.templates import TemplateCatalog

    return TemplateCatalog.from_package()


def _outbox(settings: Settings | None, directory: str | None) -> EmlOutbox:
    from aftersales.adapters.channels.outbox_dir import EmlOutbox

    return EmlOutbox(directory or (settings or get_settings()).outbox_dir)


def outbox_messages(settings: Settings | None = None, *, directory: str | None = None) -> list[MessageSummary]:
    """The .eml outbox's messages (``directory``, else the settings' ``outbox_dir``), newest first."""
    return list(_outbox(settings, directory).messages())


def outbox_message(message_id: str, settings: Settings | None = None, *, directory: str | None = None) -> EmailMessage:
    """One message of the .eml outbox by Message-ID or store id; NotFoundError when absent."""
    return _outbox(settings, directory).read(message_id)
