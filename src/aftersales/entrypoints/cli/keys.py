"""``aftersales keys create|list|revoke``: API keys for the REST API."""

from __future__ import annotations

import sys

import typer

from aftersales import bootstrap
from aftersales.entrypoints.cli.options import DbOption, FormatOption
from aftersales.entrypoints.cli.render import OutputFormat, render_records
from aftersales.services import api_keys

keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


@keys_app.command("create")
def create(
    scope: str = typer.Option(..., "--scope", help="ingest (write events and records), read, or admin (all)."),
    name: str | None = typer.Option(None, "--name", help="A label to recognise the key by."),
    db: str | None = DbOption,
) -> None:
    """Create a key and print it once: only its hash is stored, so it cannot be shown again."""
    bootstrap.init_store(db)
    created = api_keys.create_key(bootstrap.unit_of_work(db), scope, name)
    print(created.key)
    print(f"key {created.key_id} (scope {created.scope}) created; store it now, it is not shown again", file=sys.stderr)


@keys_app.command("list")
def list_(db: str | None = DbOption, fmt: OutputFormat = FormatOption) -> None:
    """List keys (id, name, scope, created, revoked); never the keys themselves."""
    records = api_keys.list_keys(bootstrap.unit_of_work(db))
    rows = [{k: getattr(r, k) for k in ("key_id", "name", "scope", "created_at", "revoked_at")} for r in records]
    render_records(rows, fmt, title="API keys")


@keys_app.command("revoke")
def revoke(key_id: str = typer.Argument(..., help="The key's id (as_<id>_...)."), db: str | None = DbOption) -> None:
    """Revoke a key: requests with it get 401 from then on."""
    record = api_keys.revoke_key(bootstrap.unit_of_work(db), key_id)
    print(f"key {record.key_id} revoked at {record.revoked_at.isoformat() if record.revoked_at else ''}")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
