"""A real uvicorn server on a free loopback port, on SQLite and on PostgreSQL (a database per test run
and xdist worker, created here and dropped at the end of the session; skipped with a reason when no
server answers, unless CI is set)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import uvicorn

from aftersales import bootstrap
from aftersales.config import Settings
from aftersales.entrypoints.api import ApiOptions, create_app
from aftersales.services.operational import api_keys
from aftersales.services.operational.webhooks import RetryPolicy

MAX_BODY = 256 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, app: object) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None, access_log=False)  # type: ignore[arg-type]
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                self.__exit__()  # a server that starts late must not outlive the test
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(20)


@pytest.fixture(scope="session")
def live_server() -> type[LiveServer]:
    """``live_server(app)``: a context manager serving an app of the test's own on a free loopback port."""
    return LiveServer


@dataclass
class Api:
    url: str
    keys: dict[str, str]
    plane: bootstrap.ServicePlane
    app: object
    max_body: int = MAX_BODY

    def client(self, scope: str | None = "admin", **headers: str) -> httpx.Client:
        if scope is not None:
            headers["Authorization"] = f"Bearer {self.keys[scope]}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{Path(tmp_path_factory.mktemp('api')) / 'store.db'}"
    return request.getfixturevalue("fresh_postgres_database")("aftersales_api")  # named per run and worker


@pytest.fixture(scope="module")
def api(store_url: str) -> Iterator[Api]:
    plane = bootstrap.service_plane(
        store_url,
        retry=RetryPolicy(max_attempts=4, base_s=0.05, max_delay_s=0.2),
        webhook_poll_s=0.05,
        webhook_timeout_s=0.5,
        webhook_allow_hosts=("127.0.0.0/8",),  # the receivers listen on loopback: allowed for the tests only
        migrate=True,
    )
    app = create_app(Settings(database_url=store_url), plane=plane, options=ApiOptions(max_body_bytes=MAX_BODY))
    keys = {scope: api_keys.create_key(plane.uow, scope).key for scope in api_keys.SCOPES}
    revoked = api_keys.create_key(plane.uow, "admin")
    api_keys.revoke_key(plane.uow, revoked.key_id)
    keys["revoked"] = revoked.key
    keys["bogus"] = "as_000000000000_not-a-real-secret"
    try:
        with LiveServer(app) as server:
            yield Api(server.url, keys, plane, app)
    finally:
        plane.close()


class Receiver:
    """Answers each request with the next scripted status ("sleep" = answer late, past the timeout)."""

    def __init__(self, script: list[int | str]) -> None:
        self.script, self.received = list(script), []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body.decode()))
                step = receiver.script.pop(0) if receiver.script else 200
                if step == "sleep":
                    time.sleep(1.0)
                    step = 200
                self.send_response(int(step))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory() -> Iterator:
    made: list[Receiver] = []

    def make(script: list[int | str]) -> Receiver:
        made.append(Receiver(script))
        return made[-1]

    yield make
    for r in made:
        r.close()
