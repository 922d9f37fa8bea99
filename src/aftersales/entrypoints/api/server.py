"""Run the API under uvicorn: JSON logs, store migrated, graceful shutdown.

On SIGTERM or Ctrl-C uvicorn stops accepting connections, lets in-flight requests finish (up to
``graceful_timeout_s``), then the app's lifespan stops the webhook dispatcher and closes the store.
"""

from __future__ import annotations

import uvicorn

from aftersales import bootstrap
from aftersales.entrypoints.api.app import ApiOptions, create_app
from aftersales.entrypoints.api.logs import configure_logging

__all__ = ["serve"]


def serve(
    db: str | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "info",
    migrate: bool = True,
    graceful_timeout_s: float = 30.0,
) -> None:
    configure_logging(log_level)
    settings = bootstrap.settings().model_copy(update={"database_url": bootstrap.database_url(db)})
    app = create_app(settings, options=ApiOptions(migrate=migrate))
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=int(graceful_timeout_s),
    )
