"""Composition of delivery (docs/email.md): the send policy, the link signer and the sender a journey
worker calls, from the settings.

* :func:`send_policy`: ``quiet_hours`` and ``frequency_cap`` parsed (a bad value is a
  ``ValidationError`` naming the setting).
* :func:`link_signer`: signs and checks unsubscribe and preference links with ``secret_key``, or the
  key generated at first use and kept in the store; ``public_url`` is the links' base.
* :class:`DeliverySender`: one worker's transports (the settings' e-mail transport, the webhooks'
  guarded HTTP sender) and ``send_due`` bound to them; calling it sends batches until the due
  messages, or this second's sending slots, run out (at most ``max_batches`` batches).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from aftersales.config import Settings, get_settings

if TYPE_CHECKING:
    from aftersales.core.journeys.policy import SendPolicy
    from aftersales.core.messaging.templates import TemplateCatalog
    from aftersales.services.clock import Clock
    from aftersales.services.operational.messaging.delivery import DeliveryConfig, DeliveryRound, Transports
    from aftersales.services.operational.messaging.links import LinkSigner
    from aftersales.services.ports import UnitOfWorkFactory

__all__ = ["DeliverySender", "delivery_config", "delivery_sender", "link_signer", "send_policy"]


def send_policy(settings: Settings | None = None) -> SendPolicy:
    """Quiet hours and the frequency cap of the settings."""
    from aftersales.core.journeys.policy import SendPolicy, parse_frequency_cap, parse_quiet_hours

    s = settings or get_settings()
    return SendPolicy(parse_quiet_hours(s.quiet_hours), *parse_frequency_cap(s.frequency_cap))


def delivery_config(settings: Settings | None = None, **overrides: Any) -> DeliveryConfig:
    from aftersales.services.operational.messaging.delivery import DeliveryConfig

    return DeliveryConfig.from_settings(settings or get_settings(), **overrides)


def link_signer(uow: UnitOfWorkFactory, settings: Settings | None = None) -> LinkSigner:
    """The signer of e-mail links (the settings' ``secret_key``, else the store's generated key)."""
    from datetime import UTC, datetime

    from aftersales.services.operational.messaging.links import LinkSigner, signing_key

    s = settings or get_settings()
    configured = s.secret_key.get_secret_value().encode("utf-8") if s.secret_key is not None else None
    return LinkSigner(signing_key(uow, configured, datetime.now(UTC)), s.public_url)


@dataclass
class DeliverySender:
    """``send_due`` bound to one worker's transports (see the module); ``close`` releases them."""

    uow: UnitOfWorkFactory
    clock: Clock
    transports: Transports
    policy: SendPolicy
    config: DeliveryConfig
    catalog: TemplateCatalog
    settings: Settings
    limit: int = 200
    max_batches: int = 20
    _signer: LinkSigner | None = field(default=None, repr=False)

    def __call__(self) -> DeliveryRound:
        from aftersales.services.operational.messaging.delivery import DeliveryRound, send_due

        if self._signer is None:
            self._signer = link_signer(self.uow, self.settings)
        total = DeliveryRound()
        for _ in range(self.max_batches):
            done = send_due(
                self.uow,
                transports=self.transports,
                clock=self.clock,
                policy=self.policy,
                signer=self._signer,
                config=self.config,
                catalog=self.catalog,
                limit=self.limit,
            )
            total = _add(total, done)
            if done.claimed < self.limit:
                break
        return total

    def close(self) -> None:
        if self.transports.email is not None:
            self.transports.email.close()
        webhook = self.transports.webhook
        if webhook is not None and hasattr(webhook, "close"):
            webhook.close()


def _add(a: DeliveryRound, b: DeliveryRound) -> DeliveryRound:
    counts = {k: getattr(a, k) + getattr(b, k) for k in ("claimed", "sent", "failed", "retried", "deferred")}
    counts |= {k: getattr(a, k) + getattr(b, k) for k in ("paced", "skipped", "suppressed", "unknown")}
    return replace(a, **counts, unknown_ids=a.unknown_ids + b.unknown_ids)


def delivery_sender(
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: Settings | None = None,
    *,
    catalog: TemplateCatalog | None = None,
    webhook_timeout_s: float = 10.0,
    limit: int = 200,
) -> DeliverySender:
    """A sender for one worker: the settings' e-mail transport and a guarded webhook sender that
    refuses non-public addresses unless ``webhook_allow_hosts`` allows them; ``catalog`` defaults to
    the shipped templates."""
    from aftersales.adapters.channels.webhooks import HttpWebhookSender
    from aftersales.bootstrap.messaging import email_transport, template_catalog
    from aftersales.services.operational.messaging.delivery import Transports
    from aftersales.services.operational.webhook_destinations import DestinationPolicy

    s = settings or get_settings()
    webhook = HttpWebhookSender(webhook_timeout_s, DestinationPolicy.parse(s.webhook_allow_hosts))
    transports = Transports(email=email_transport(s), webhook=webhook)
    return DeliverySender(
        uow, clock, transports, send_policy(s), delivery_config(s), catalog or template_catalog(), s, limit=limit
    )
