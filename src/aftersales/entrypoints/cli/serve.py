"""``aftersales serve``: the REST API (docs at /docs) on the store given by --db, --db-file or the settings.

A store URL with a password on the command line is visible to every user of the machine (``ps``), so
serve also reads the URL from a file (``--db-file PATH`` or ``AFTERSALES_DATABASE_URL_FILE``, e.g. a
mounted secret) or from ``AFTERSALES_DATABASE_URL``; a password given in ``--db`` is accepted with a
warning. Any URL shown is masked (``core.urls.mask_url``).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import typer

from aftersales.core.errors import UnusableInputError
from aftersales.core.urls import mask_url
from aftersales.entrypoints.cli.options import DbOption


def read_url_file(path: str | Path) -> str:
    """The store URL held in ``path`` (surrounding white space and a final newline ignored)."""
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UnusableInputError(f"{path}: cannot read the store URL file ({exc.strerror or exc})") from None
    if not text:
        raise UnusableInputError(f"{path}: the store URL file is empty")
    return text


def store_url(db: str | None, db_file: Path | None) -> str | None:
    """The store for serve: ``--db``, else ``--db-file``, else ``AFTERSALES_DATABASE_URL_FILE``, else
    None (bootstrap then takes ``AFTERSALES_DATABASE_URL`` or ``./aftersales.db``)."""
    if db and db_file:
        raise UnusableInputError("give --db or --db-file, not both")
    if db:
        if mask_url(db) != db:
            print(
                "warning: the store password in --db is visible to other users (ps); "
                "use AFTERSALES_DATABASE_URL, --db-file or AFTERSALES_DATABASE_URL_FILE",
                file=sys.stderr,
            )
        return db
    if db_file is not None:
        return read_url_file(db_file)
    from aftersales import bootstrap

    path = bootstrap.settings().database_url_file
    return read_url_file(path) if path else None


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (0.0.0.0 for all)."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="TCP port."),
    db: str | None = DbOption,
    db_file: Path | None = typer.Option(
        None,
        "--db-file",
        help="File holding the store URL, so its password is not on the command line "
        "(default: $AFTERSALES_DATABASE_URL_FILE).",
    ),
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning or error."),
    migrate: bool = typer.Option(True, "--migrate/--no-migrate", help="Upgrade the store to the newest schema first."),
    workers: int = typer.Option(
        1, "--workers", min=1, max=64, help="Worker processes (one per core serves the most events; PostgreSQL)."
    ),
    journey_worker: bool = typer.Option(
        True, "--worker/--no-worker", help="Also run journeys and send their messages (else run `aftersales worker`)."
    ),
) -> None:
    """Serve the REST API with uvicorn until SIGTERM/Ctrl-C (in-flight requests are completed)."""
    url = store_url(db, db_file)
    # Imported by name at run time: the CLI and the API are independent entry points (neither imports
    # the other's code); this is the same late binding as the command registry.
    server = importlib.import_module("aftersales.entrypoints.api.server")
    server.serve(
        url, host=host, port=port, log_level=log_level, migrate=migrate, workers=workers, journey_worker=journey_worker
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
