"""Run the API under uvicorn: JSON logs, store migrated, graceful shutdown, one or more worker processes.

On SIGTERM or Ctrl-C uvicorn stops accepting connections, lets in-flight requests finish (up to
``graceful_timeout_s``), then the app's lifespan stops the webhook dispatcher and closes the store.

With ``workers > 1`` the store is migrated once, here, and uvicorn's supervisor starts that many
worker processes on the same socket, each building its app with :func:`worker_app` from the
settings, which the workers inherit through the environment (``AFTERSALES_DATABASE_URL``,
``AFTERSALES_LOG_LEVEL``). A Python process runs Python code on one core at a time, so on a
machine with more than one core, more workers serve more requests: ``POST /v1/events`` is bound
by its Python work (decoding and checking a batch). Each worker runs its own webhook dispatcher
(and, unless ``journey_worker`` is False, its own journey worker: docs/journeys.md);
they share the work safely (a delivery is claimed under a lease, with ``SKIP LOCKED`` on
PostgreSQL). On SQLite, writes from all workers still go one at a time, so more workers help reads
only; use PostgreSQL for heavy ingest.

A worker exits when its supervisor dies. uvicorn's supervisor stops its workers when it is asked to
stop, but a supervisor killed outright (``kill -9``, the OOM killer) cannot, and its workers would be
re-parented and keep serving on the port, so that the next ``serve`` fails with "Address already in
use". Each worker therefore (1) asks Linux to send it SIGTERM when its parent dies
(``prctl(PR_SET_PDEATHSIG)``), and (2) on every platform runs a watchdog thread that waits on the
parent's multiprocessing sentinel (a pipe that reads end-of-file when the parent is gone) and checks
``os.getppid()`` every second, then sends the worker SIGTERM. SIGTERM is uvicorn's graceful
shutdown: requests in flight finish; a worker still alive :data:`ORPHAN_EXIT_S` seconds later exits
at once.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from multiprocessing.connection import wait

import uvicorn
from fastapi import FastAPI

from aftersales import bootstrap
from aftersales.entrypoints.api.app import ApiOptions, create_app
from aftersales.entrypoints.api.logs import configure_logging

__all__ = ["ORPHAN_EXIT_S", "exit_with_parent", "serve", "worker_app", "worker_app_with_journeys"]

_PREFIX = "AFTERSALES_"  # config.Settings reads AFTERSALES_<FIELD>
ORPHAN_EXIT_S = 60.0
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def serve(
    db: str | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "info",
    migrate: bool = True,
    graceful_timeout_s: float = 30.0,
    workers: int = 1,
    journey_worker: bool = True,
) -> None:
    """Serve the API on the store ``db`` until SIGTERM/Ctrl-C, in ``workers`` processes; each process
    also runs a journey worker unless ``journey_worker`` is False."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    configure_logging(log_level)
    url = bootstrap.database_url(db)

    def run(app: FastAPI | str, *, factory: bool = False, workers: int | None = None) -> None:
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=int(graceful_timeout_s),
            factory=factory,
            workers=workers,
        )

    if workers == 1:
        settings = bootstrap.settings().model_copy(update={"database_url": url})
        run(create_app(settings, options=ApiOptions(migrate=migrate, journey_worker=journey_worker)))
        return
    if migrate:
        bootstrap.init_store(url)
    os.environ[f"{_PREFIX}DATABASE_URL"], os.environ[f"{_PREFIX}LOG_LEVEL"] = url, log_level  # for the workers
    factory = "worker_app_with_journeys" if journey_worker else "worker_app"
    run(f"{__name__}:{factory}", factory=True, workers=workers)


def worker_app() -> FastAPI:
    """The app of one worker process of ``serve(workers=N)``: the settings' store (already migrated by
    the parent) and log level."""
    exit_with_parent()
    settings = bootstrap.settings()
    configure_logging(settings.log_level)
    return create_app(settings, options=ApiOptions(migrate=False))


def worker_app_with_journeys() -> FastAPI:
    """:func:`worker_app` that also runs a journey worker (``serve`` without ``--no-worker``)."""
    exit_with_parent()
    settings = bootstrap.settings()
    configure_logging(settings.log_level)
    return create_app(settings, options=ApiOptions(migrate=False, journey_worker=True))


def exit_with_parent() -> bool:
    """Make this process (a worker started by ``multiprocessing``) stop when its parent dies: SIGTERM,
    then, if it is still alive :data:`ORPHAN_EXIT_S` seconds later, an immediate exit. False (nothing
    done) in a process that ``multiprocessing`` did not start."""
    parent = multiprocessing.parent_process()
    if parent is None or parent.pid is None:
        return False
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)  # a failure leaves the watchdog
    threading.Thread(
        target=_watch_parent, args=(parent.pid, parent.sentinel), name="parent-watchdog", daemon=True
    ).start()
    return True


def _watch_parent(parent_pid: int, sentinel: int) -> None:
    # The getppid() check also covers a parent that died before prctl() above took effect.
    while not wait([sentinel], timeout=1.0) and os.getppid() == parent_pid:
        pass
    logging.getLogger("aftersales.api").warning("the supervisor (pid %d) is gone: stopping this worker", parent_pid)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(ORPHAN_EXIT_S)
    os._exit(1)
