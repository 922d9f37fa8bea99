"""``aftersales messages progress|list|webhook-secret`` and ``aftersales suppressions list|add|remove``
(docs/email.md): where sending stands, the outbox's messages, and the suppression list.

No command prints an e-mail address: messages and suppressions name customers by id.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import typer

from aftersales.entrypoints.cli.options import DbOption, FormatOption
from aftersales.entrypoints.cli.render import OutputFormat, print_json, render_records

messages_app = typer.Typer(help="Outbox messages: sending progress and the message list.", no_args_is_help=True)
suppressions_app = typer.Typer(help="Who must not be e-mailed: list, add, remove suppressions.", no_args_is_help=True)

JourneyOption = typer.Option(None, "--journey", "-j", help="A journey's name or id (default: every journey).")
CustomerOption = typer.Option(None, "--customer", help="Only this customer's (by id).")
LimitOption = typer.Option(100, "--limit", min=1, max=100_000, help="At most this many rows.")
ChannelOption = typer.Option("email", "--channel", help="The channel (email).")
TopicOption = typer.Option("*", "--topic", help="A topic, or * for every marketing topic.")

_LIST_COLUMNS: tuple[str, ...] = ("message_id", "journey_id", "step_id", "customer_id", "channel", "category")
_LIST_COLUMNS += ("topic", "status", "not_before", "attempts", "finished_at", "detail")


def _uow(db: str | None) -> Any:
    from aftersales import bootstrap

    bootstrap.init_store(db)
    return bootstrap.unit_of_work(db)


@messages_app.command("progress")
def progress(journey: str | None = JourneyOption, db: str | None = DbOption, fmt: OutputFormat = FormatOption) -> None:
    """Where sending stands: sent, deferred, failed, unknown, remaining, rate and estimated finish."""
    from aftersales import bootstrap
    from aftersales.services.operational.messaging.progress import delivery_progress, journey_ref

    uow = _uow(db)
    with uow() as u:
        p = delivery_progress(
            u, journey_ref(u, journey), now=datetime.now(UTC), send_rate_per_s=bootstrap.settings().send_rate_per_s
        )
    record = asdict(p)
    if fmt == OutputFormat.json:
        print_json(record)
        return
    rows = [{"": k, "value": v} for k, v in record.items()] if fmt == OutputFormat.table else [record]
    render_records(rows, fmt, title=f"Sending progress: {journey or 'every journey'}")


@messages_app.command("list")
def list_messages(
    journey: str | None = JourneyOption,
    customer: str | None = CustomerOption,
    status: str | None = typer.Option(None, "--status", help="queued, sending, sent, failed, unknown, ..."),
    limit: int = LimitOption,
    db: str | None = DbOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """The outbox's messages in id order (oldest ids first), filtered."""
    from aftersales.services.operational.messaging.progress import messages_page

    uow, cursor = _uow(db), None
    items: list[dict[str, Any]] = []
    while len(items) < limit:
        page = messages_page(
            uow, journey_id=journey, customer_id=customer, status=status, limit=min(1000, limit), cursor=cursor
        )
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    rows = items[:limit]
    if fmt != OutputFormat.json:
        rows = [{k: r[k] for k in _LIST_COLUMNS} for r in rows]
    render_records(rows, fmt, title="Messages")


@messages_app.command("webhook-secret")
def webhook_secret(db: str | None = DbOption) -> None:
    """The secret that signs journeys' webhook steps (``Aftersales-Signature``), for their receivers."""
    from aftersales.services.operational.messaging.links import webhook_secret as secret

    print(secret(_uow(db), datetime.now(UTC)))


@suppressions_app.command("list")
def list_suppressions(
    customer: str | None = CustomerOption,
    limit: int = LimitOption,
    db: str | None = DbOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Suppressions in customer order: channel, topic, reason, when, the message that caused it."""
    from aftersales.services.operational.messaging.suppressions import suppressions_page

    page = suppressions_page(_uow(db), customer_id=customer, limit=limit)
    render_records(page["items"], fmt, title="Suppressions")


@suppressions_app.command("add")
def add(
    customer: str = typer.Argument(..., help="The customer's id."),
    topic: str = TopicOption,
    reason: str = typer.Option("manual", "--reason", help="manual, unsubscribed, hard_bounce or complaint."),
    channel: str = ChannelOption,
    db: str | None = DbOption,
) -> None:
    """Stop e-mailing a customer on a topic (or every marketing topic); bounces and complaints stop all."""
    from aftersales.services.operational.messaging.suppressions import add_suppression

    record, created = add_suppression(
        _uow(db), customer, now=datetime.now(UTC), channel=channel, topic=topic, reason=reason
    )
    state = "suppressed" if created else "already suppressed"
    print(f"{record.customer_id}: {state} on {record.channel} topic {record.topic} ({record.reason})")


@suppressions_app.command("remove")
def remove(
    customer: str = typer.Argument(..., help="The customer's id."),
    topic: str = TopicOption,
    channel: str = ChannelOption,
    db: str | None = DbOption,
) -> None:
    """Lift one suppression (exit 2 when there is none)."""
    from aftersales.services.operational.messaging.suppressions import remove_suppression

    record = remove_suppression(_uow(db), customer, channel=channel, topic=topic)
    print(f"{record.customer_id}: no longer suppressed on {record.channel} topic {record.topic}")


def register(app: typer.Typer) -> None:
    app.add_typer(messages_app, name="messages")
    app.add_typer(suppressions_app, name="suppressions")
