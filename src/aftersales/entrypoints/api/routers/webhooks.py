"""Webhook subscriptions and deliveries (admin scope)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from aftersales.entrypoints.api.deps import get_uow, require_scope
from aftersales.entrypoints.api.schemas import (
    DeliveryDetail,
    DeliveryOut,
    DeliveryPage,
    PageCursor,
    PageLimit,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPage,
)
from aftersales.services.operational import webhook_admin, webhooks
from aftersales.services.ports import UnitOfWorkFactory

router = APIRouter(prefix="/v1", tags=["webhooks"], dependencies=[Depends(require_scope("admin"))])
ID_PATTERN = r"^[A-Za-z0-9_]+$"  # wh_<hex>, dl_<hex>
Id = Annotated[str, Path(min_length=1, max_length=100, pattern=ID_PATTERN)]


@router.post("/webhook-subscriptions", status_code=201, response_model=SubscriptionCreated)
def subscribe(body: SubscriptionIn, request: Request, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    """Register a URL for event types (``*`` for all). The signing secret is in this response only.
    URLs that reach the server's own network (loopback, private, link-local, metadata) are refused."""
    policy = request.app.state.plane.dispatcher.destinations
    return asdict(webhooks.register(uow, body.url, body.event_types, body.description, destinations=policy))


@router.get("/webhook-subscriptions", response_model=SubscriptionPage)
def subscriptions(limit: PageLimit = 100, cursor: PageCursor = None, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    return webhook_admin.subscriptions_page(uow, limit=limit, cursor=cursor)


@router.get("/webhook-subscriptions/{subscription_id}", response_model=SubscriptionOut)
def subscription(subscription_id: Id, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    return asdict(webhook_admin.subscription(uow, subscription_id))


@router.delete("/webhook-subscriptions/{subscription_id}", response_model=SubscriptionOut)
def unsubscribe(subscription_id: Id, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    """Stop sending to this subscription (its delivery history is kept)."""
    return asdict(webhook_admin.deactivate(uow, subscription_id))


@router.get("/webhook-deliveries", response_model=DeliveryPage)
def deliveries(
    subscription_id: Annotated[str | None, Query(max_length=100, pattern=ID_PATTERN)] = None,
    status: Literal["pending", "delivered", "failed"] | None = None,
    limit: PageLimit = 100,
    cursor: PageCursor = None,
    uow: UnitOfWorkFactory = Depends(get_uow),
) -> Any:
    return webhook_admin.deliveries_page(
        uow, subscription_id=subscription_id, status=status, limit=limit, cursor=cursor
    )


@router.get("/webhook-deliveries/{delivery_id}", response_model=DeliveryDetail)
def delivery(delivery_id: Id, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    """One delivery with the payload sent and every attempt (time, status code or error, duration)."""
    return webhook_admin.delivery_detail(uow, delivery_id)


@router.post("/webhook-deliveries/{delivery_id}/redeliver", status_code=202, response_model=DeliveryOut)
def redeliver(delivery_id: Id, request: Request, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
    """Send this delivery again now, with a fresh round of retries (409 when its subscription is deleted)."""
    out = asdict(webhooks.redeliver(uow, delivery_id))
    request.app.state.plane.dispatcher.wake()
    return out
