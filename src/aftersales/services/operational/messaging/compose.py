"""One e-mail from one outbox row: template, personalisation, links, MIME.

The step's ``template`` is resolved in the customer's locale (``customers.locale``, else the business
default; ``de_CH`` falls back to ``de``, then the catalogue's default) and rendered in the sandbox
with :func:`aftersales.core.messaging.context.personalisation` of the customer and profile rows,
plus ``unsubscribe_url`` (marketing only), ``preferences_url``, ``message_id``, ``journey_id``,
``step_id`` and ``variant``. The Message-ID is ``message_id_for(message id, domain of the From
address)``: a retry of the same (enrollment, step) carries the same one. Marketing e-mail gets
``List-Unsubscribe`` and the RFC 8058 one-click ``List-Unsubscribe-Post`` headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from aftersales.core.messaging.context import personalisation
from aftersales.core.messaging.mime import build_email, domain_of, message_id_for
from aftersales.core.messaging.templates import TemplateCatalog, render_email
from aftersales.services.operational.messaging.links import LinkSigner
from aftersales.services.ports_messages import MessageRecord, Recipient

__all__ = ["compose_email", "rfc_message_id", "template_context"]


def rfc_message_id(message: MessageRecord, mail_from: str) -> str:
    """The stable Message-ID of ``message`` sent from ``mail_from``."""
    return message_id_for(message.message_id, domain_of(mail_from))


def template_context(
    message: MessageRecord,
    recipient: Recipient,
    *,
    links: LinkSigner,
    now: datetime,
    trigger: Mapping[str, Any] | None = None,
    product_names: list[str] | None = None,
) -> dict[str, Any]:
    """The variables the message's template sees (the module's list)."""
    customer = {"customer_id": recipient.customer_id, "name": recipient.name}
    extra: dict[str, Any] = {
        "preferences_url": links.preferences_url(recipient.customer_id, now),
        "message_id": message.message_id,
        "journey_id": message.journey_id,
        "step_id": message.step_id,
        "variant": message.variant,
    }
    if message.category == "marketing":
        extra["unsubscribe_url"] = links.unsubscribe_url(
            recipient.customer_id, message.topic, now, message_id=message.message_id
        )
    return personalisation(customer, recipient.profile, trigger=trigger, product_names=product_names, extra=extra)


def compose_email(
    message: MessageRecord,
    recipient: Recipient,
    *,
    catalog: TemplateCatalog,
    links: LinkSigner,
    mail_from: str,
    default_locale: str,
    now: datetime,
    trigger: Mapping[str, Any] | None = None,
    product_names: list[str] | None = None,
) -> EmailMessage:
    """The e-mail to send for ``message`` (the module's description). Template errors raise
    ``ValidationError`` / ``NotFoundError``; the caller records them as a permanent failure."""
    if not recipient.email:
        raise ValueError("the recipient has no e-mail address")
    locale = recipient.locale or default_locale
    template = catalog.resolve(str(message.params.get("template", "")), locale)
    context = template_context(message, recipient, links=links, now=now, trigger=trigger, product_names=product_names)
    rendered = render_email(template, context, locale=locale)
    marketing = message.category == "marketing"
    return build_email(
        rendered,
        sender=mail_from,
        recipient=recipient.email,
        message_id=rfc_message_id(message, mail_from),
        date=now,
        internal_id=message.message_id,
        unsubscribe_url=context.get("unsubscribe_url") if marketing else None,
        unsubscribe_post=marketing,
    )
