"""Run the API under uvicorn: JSON logs, store migrated, graceful shutdown, one or more worker processes.

On SIGTERM or Ctrl-C uvicorn stops accepting connections, lets in-flight requests finish (up to
``graceful_timeout_s``), then the app's lifespan stops the webhook dispatcher and closes the store.

With ``workers > 1`` the store is migrated once, here, and uvicorn's supervisor starts that many
worker processes on the same socket, each building its app with :func:`worker_app` from the
settings, which the workers inherit through the environment (``AFTERSALES_DATABASE_URL``,
``AFTERSALES_LOG_LEVEL``). A Python process runs Python code on one core at a time, so on a
machine with more than one core, more workers serve more requests: ``POST /v1/events`` is bound
by its Python work (decoding and checking a batch). Each worker runs its own webhook dispatcher;
they share the work safely (a delivery is claimed under a lease, with ``SKIP LOCKED`` on
PostgreSQL). On SQLite, writes from all workers still go one at a time, so more workers help reads
only; use PostgreSQL for heavy ingest.
"""

from __future__ import annotations

import os

import uvicorn
from fastapi import FastAPI

from aftersales import bootstrap
from aftersales.entrypoints.api.app import ApiOptions, create_app
from aftersales.entrypoints.api.logs import configure_logging

__all__ = ["serve", "worker_app"]

_PREFIX = "AFTERSALES_"  # config.Settings reads AFTERSALES_<FIELD>


def serve(
    db: str | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "info",
    migrate: bool = True,
    graceful_timeout_s: float = 30.0,
    workers: int = 1,
) -> None:
    """Serve the API on the store ``db`` until SIGTERM/Ctrl-C, in ``workers`` processes."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    configure_logging(log_level)
    url = bootstrap.database_url(db)
    common = {
        "host": host,
        "port": port,
        "log_config": None,
        "access_log": False,
        "server_header": False,
        "timeout_graceful_shutdown": int(graceful_timeout_s),
    }
    if workers == 1:
        settings = bootstrap.settings().model_copy(update={"database_url": url})
        uvicorn.run(create_app(settings, options=ApiOptions(migrate=migrate)), **common)  # type: ignore[arg-type]
        return
    if migrate:
        bootstrap.init_store(url)
    os.environ[f"{_PREFIX}DATABASE_URL"], os.environ[f"{_PREFIX}LOG_LEVEL"] = url, log_level  # for the workers
    uvicorn.run(f"{__name__}:worker_app", factory=True, workers=workers, **common)  # type: ignore[arg-type]


def worker_app() -> FastAPI:
    """The app of one worker process of ``serve(workers=N)``: the settings' store (already migrated by
    the parent) and log level."""
    settings = bootstrap.settings()
    configure_logging(settings.log_level)
    return create_app(settings, options=ApiOptions(migrate=False))
