"""Opening a send: the invitation row a survey e-mail's links point to, after the throttle.

:func:`open_send` is what a sender (the journey ``survey`` step, a one-off relationship survey) calls
before it e-mails an invitation. In one transaction it checks the survey is active, that a review
names its product, that the order asked about was neither cancelled nor returned (unless
``include_cancelled_or_returned``), and the throttle (``core/surveys/throttle.py``: the survey's own
window and the global one over every survey's sends to this customer); then it writes the send.

The send's id is ``snd_`` + BLAKE2b(survey id | ``key``), where ``key`` names the occasion (an outbox
message id, ``<customer>|<order>``...): calling again with the same key returns the stored send and
writes nothing, so a sender retried after a crash makes one send (and the throttle does not refuse
its own send). Consent and suppressions are checked by the e-mail delivery at send time (the
survey's ``category`` is the message's category).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from aftersales.core.errors import NotFoundError, ValidationError
from aftersales.core.surveys.model import DEFAULT_THROTTLE
from aftersales.core.surveys.throttle import PastSend, order_refusal, throttle_refusal, throttle_windows
from aftersales.services.operational.surveys.definitions import active_survey
from aftersales.services.ports import UnitOfWorkFactory
from aftersales.services.ports_surveys import SendRecord

__all__ = ["OpenedSend", "open_send", "send_id_for"]


@dataclass(frozen=True)
class OpenedSend:
    """The send (``None`` when refused), whether this call wrote it, and why it was refused."""

    send: SendRecord | None
    created: bool
    refusal: str | None = None


def send_id_for(survey_id: str, key: str) -> str:
    """The send id of ``key`` for ``survey_id`` (see the module)."""
    return "snd_" + hashlib.blake2b(f"{survey_id}|{key}".encode(), digest_size=10).hexdigest()


def open_send(
    uow: UnitOfWorkFactory,
    survey_ref: str,
    customer_id: str,
    *,
    key: str,
    now: datetime,
    order_id: str | None = None,
    product_id: str | None = None,
    include_cancelled_or_returned: bool = False,
    global_throttle: timedelta = DEFAULT_THROTTLE,
) -> OpenedSend:
    """The send of ``survey_ref`` (name or id) to ``customer_id`` for ``key`` (see the module)."""
    with uow() as u:
        record, survey = active_survey(u, survey_ref)
        send_id = send_id_for(record.survey_id, key)
        stored = u.surveys.get_send(send_id)
        if stored is not None:
            return OpenedSend(stored, False)
        if survey.is_review and not product_id:
            raise ValidationError("a review survey asks about one product: give its product_id")
        if not u.resources.exists("customers", {"customer_id": customer_id}):
            raise NotFoundError(f"no customer {customer_id!r}")
        if order_id is not None:
            order = u.resources.get("orders", {"order_id": order_id})
            if order is None:
                raise NotFoundError(f"no order {order_id!r}")
            why = order_refusal(order.get("status"), include_cancelled_or_returned=include_cancelled_or_returned)
            if why is not None:
                return OpenedSend(None, False, why)
        if product_id is not None and not u.resources.exists("products", {"product_id": product_id}):
            raise NotFoundError(f"no product {product_id!r}")
        longest = max(throttle_windows(survey, global_throttle))
        past = [PastSend(s, at) for s, at in u.surveys.sends_since(customer_id, now - longest)] if longest else []
        why = throttle_refusal(survey, record.survey_id, past, now, global_default=global_throttle)
        if why is not None:
            return OpenedSend(None, False, why)
        send = SendRecord(
            send_id, record.survey_id, record.version, customer_id, order_id, product_id, survey.channel, now,
            now + survey.link_ttl, "sent",
        )  # fmt: skip
        created = u.surveys.add_send(send)
        return OpenedSend(send if created else u.surveys.get_send(send_id), created)
