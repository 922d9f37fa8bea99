"""``aftersales outbox [show MESSAGE_ID]``: the local .eml outbox (docs/email.md).

Recipients are shown masked (``j***@example.com``): the table may end up in a log or a ticket; the
.eml file itself holds the full address.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from aftersales.entrypoints.cli.options import FormatOption
from aftersales.entrypoints.cli.render import OutputFormat, render_records

outbox_app = typer.Typer(
    help="The local .eml outbox (AFTERSALES_EMAIL_TRANSPORT=outbox): list its messages, show one.",
    invoke_without_command=True,
)

DirOption = typer.Option(None, "--dir", help="Outbox directory (default: $AFTERSALES_OUTBOX_DIR, else ./outbox).")

#: Headers `show` prints, in this order (when the message has them).
SHOWN_HEADERS = (
    "Date",
    "From",
    "To",
    "Subject",
    "Message-ID",
    "X-Aftersales-Message",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
)


@outbox_app.callback()
def list_(ctx: typer.Context, directory: str | None = DirOption, fmt: OutputFormat = FormatOption) -> None:
    """List the outbox's messages, newest first: time, Message-ID, subject, recipient (masked)."""
    if ctx.invoked_subcommand is not None:
        return
    from aftersales.bootstrap import messaging
    from aftersales.core.messaging.mime import mask_address

    rows: list[dict[str, Any]] = [
        {
            "time": m.date,
            "message_id": m.message_id,
            "subject": m.subject,
            "to": ", ".join(mask_address(a) for a in m.recipient.split(", ") if a),
        }
        for m in messaging.outbox_messages(directory=directory)
    ]
    if not rows and fmt == OutputFormat.table:
        print("no messages in the outbox", file=sys.stderr)
        return
    render_records(rows, fmt, title="Outbox")


@outbox_app.command("show")
def show(
    message_id: str = typer.Argument(..., help="Message-ID (with or without <>) or the store's message id (msg_...)."),
    directory: str | None = DirOption,
) -> None:
    """Print one message's headers and its plain-text part."""
    from aftersales.bootstrap import messaging
    from aftersales.core.messaging.mime import mask_address, text_part

    message = messaging.outbox_message(message_id, directory=directory)
    for name in SHOWN_HEADERS:
        value = message.get(name)
        if value is not None:
            print(f"{name}: {mask_address(str(value)) if name == 'To' else value}")
    print()
    print(text_part(message).rstrip("\n"))


def register(app: typer.Typer) -> None:
    app.add_typer(outbox_app, name="outbox")
