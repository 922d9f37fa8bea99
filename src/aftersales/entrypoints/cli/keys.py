"""``aftersales keys create|list|revoke``: API keys for the REST API.

``keys create`` usually runs on a lean path before this app is built (:mod:`.fast_keys`); this command
is the full path it falls back to (help, usage errors, a store to create or migrate), with the same
output.
"""

from __future__ import annotations

from enum import StrEnum

import typer

from aftersales.entrypoints.cli.fast_keys import announce
from aftersales.entrypoints.cli.options import DbOption, FormatOption
from aftersales.entrypoints.cli.render import OutputFormat, render_records
from aftersales.services.operational.api_keys import SCOPES

keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)

#: The scopes a key may have, as CLI choices: derived from the one list in services.api_keys.
Scope = StrEnum("Scope", {s: s for s in SCOPES})  # type: ignore[misc]  # functional API: members from SCOPES


@keys_app.command("create")
def create(
    scope: Scope = typer.Option(
        ...,
        "--scope",
        help="ingest (write events and records), read (metrics, scores, lists) or admin (all, keys and webhooks).",
    ),
    name: str | None = typer.Option(None, "--name", help="A label to recognise the key by."),
    db: str | None = DbOption,
) -> None:
    """Create a key and print it once: only its hash is stored, so it cannot be shown again."""
    from aftersales import bootstrap
    from aftersales.services.operational import api_keys

    bootstrap.init_store(db)
    announce(api_keys.create_key(bootstrap.unit_of_work(db), scope.value, name))


@keys_app.command("list")
def list_(db: str | None = DbOption, fmt: OutputFormat = FormatOption) -> None:
    """List keys (id, name, scope, created, revoked); never the keys themselves."""
    from aftersales import bootstrap
    from aftersales.services.operational import api_keys

    records = api_keys.list_keys(bootstrap.unit_of_work(db))
    rows = [{k: getattr(r, k) for k in ("key_id", "name", "scope", "created_at", "revoked_at")} for r in records]
    render_records(rows, fmt, title="API keys")


@keys_app.command("revoke")
def revoke(key_id: str = typer.Argument(..., help="The key's id (as_<id>_...)."), db: str | None = DbOption) -> None:
    """Revoke a key: requests with it get 401 from then on."""
    from aftersales import bootstrap
    from aftersales.services.operational import api_keys

    record = api_keys.revoke_key(bootstrap.unit_of_work(db), key_id)
    print(f"key {record.key_id} revoked at {record.revoked_at.isoformat() if record.revoked_at else ''}")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
