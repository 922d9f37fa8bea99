"""Reading and managing webhook subscriptions and deliveries (the admin side of ``webhooks``)."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from aftersales.core.errors import NotFoundError
from aftersales.services.operational.cursors import decode_cursor, encode_cursor
from aftersales.services.ports import SubscriptionRecord, UnitOfWorkFactory

__all__ = ["deactivate", "deliveries_page", "delivery_detail", "subscription", "subscriptions_page"]


def _public(sub: SubscriptionRecord) -> dict[str, Any]:
    out = asdict(sub)
    del out["secret"]  # shown once, at registration
    return out


def _after(cursor: str | None) -> str | None:
    """The id a page cursor (the same opaque format as every list of the API) continues after."""
    if cursor is None:
        return None
    (after,) = decode_cursor(cursor, (str,))
    return str(after)


def subscriptions_page(uow: UnitOfWorkFactory, *, limit: int, cursor: str | None) -> dict[str, Any]:
    with uow() as u:
        subs = u.webhooks.list_subscriptions(after=_after(cursor), limit=limit + 1)
    more = len(subs) > limit
    subs = subs[:limit]
    return {
        "items": [_public(s) for s in subs],
        "next_cursor": encode_cursor([subs[-1].subscription_id]) if more else None,
    }


def subscription(uow: UnitOfWorkFactory, subscription_id: str) -> SubscriptionRecord:
    with uow() as u:
        sub = u.webhooks.get_subscription(subscription_id)
    if sub is None:
        raise NotFoundError(f"no webhook subscription {subscription_id!r}")
    return replace(sub, secret="")


def deactivate(uow: UnitOfWorkFactory, subscription_id: str) -> SubscriptionRecord:
    """Stop a subscription: its pending deliveries fail ("subscription deleted") in the same
    transaction, and the dispatcher's claim refuses any that a racing write still queues."""
    with uow() as u:
        if u.webhooks.deactivate(subscription_id):
            u.webhooks.cancel_pending("subscription deleted", subscription_id=subscription_id)
        sub = u.webhooks.get_subscription(subscription_id)
    if sub is None:
        raise NotFoundError(f"no webhook subscription {subscription_id!r}")
    return replace(sub, secret="")


def deliveries_page(
    uow: UnitOfWorkFactory, *, subscription_id: str | None, status: str | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    with uow() as u:
        rows = u.webhooks.list_deliveries(
            subscription_id=subscription_id, status=status, after=_after(cursor), limit=limit + 1
        )
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [asdict(d) for d in rows], "next_cursor": encode_cursor([rows[-1].delivery_id]) if more else None}


def delivery_detail(uow: UnitOfWorkFactory, delivery_id: str) -> dict[str, Any]:
    with uow() as u:
        d = u.webhooks.get_delivery(delivery_id)
        attempts = u.webhooks.attempts(delivery_id) if d else []
    if d is None:
        raise NotFoundError(f"no webhook delivery {delivery_id!r}")
    return {**asdict(d), "attempts": [asdict(a) for a in attempts]}
