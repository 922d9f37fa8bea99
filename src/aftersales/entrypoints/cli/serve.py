"""``aftersales serve``: the REST API (docs at /docs) on the store given by --db."""

from __future__ import annotations

import importlib

import typer

from aftersales.entrypoints.cli.options import DbOption


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (0.0.0.0 for all)."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="TCP port."),
    db: str | None = DbOption,
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning or error."),
    migrate: bool = typer.Option(True, "--migrate/--no-migrate", help="Upgrade the store to the newest schema first."),
    workers: int = typer.Option(
        1, "--workers", min=1, max=64, help="Worker processes (one per core serves the most events; PostgreSQL)."
    ),
) -> None:
    """Serve the REST API with uvicorn until SIGTERM/Ctrl-C (in-flight requests are completed)."""
    # Imported by name at run time: the CLI and the API are independent entry points (neither imports
    # the other's code); this is the same late binding as the command registry.
    server = importlib.import_module("aftersales.entrypoints.api.server")
    server.serve(db, host=host, port=port, log_level=log_level, migrate=migrate, workers=workers)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
