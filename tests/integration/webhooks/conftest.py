"""Webhook dispatch against real stores (a SQLite file; a PostgreSQL database named per run) and real
receivers on loopback: a gated HTTP receiver, a slow one, and a raw socket that trickles its answer."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.migrate import upgrade
from aftersales.adapters.sql.repositories import unit_of_work_factory
from aftersales.services.operational.webhook_destinations import DestinationPolicy
from aftersales.services.ports import UnitOfWorkFactory

LOOPBACK = DestinationPolicy.parse(["127.0.0.0/8"])  # the tests' receivers listen on loopback: allowed here


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty store URL; the PostgreSQL database is named per run (parallel runs coexist)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("fresh_postgres_database")(f"aftersales_wh_{uuid.uuid4().hex[:12]}")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    drop = request.getfixturevalue("drop_database")  # asked before teardown, as pytest requires
    yield url
    if request.param == "postgres":
        drop(url)


@pytest.fixture
def uow_factory() -> Iterator[Callable[[str], UnitOfWorkFactory]]:
    """``make(url)``: a unit-of-work factory on its own engine (one per simulated worker process)."""
    engines = []

    def make(url: str) -> UnitOfWorkFactory:
        engines.append(make_engine(url, **({} if url.startswith("sqlite") else {"pool_size": 20})))
        return unit_of_work_factory(engines[-1])

    yield make
    for engine in engines:
        engine.dispose()


class Receiver:
    """An HTTP receiver on 127.0.0.1 answering ``status`` after ``delay_s``; ``gate`` (when set up)
    holds every request until the test releases it. Records each request's delivery id in order."""

    def __init__(self, status: int = 200, delay_s: float = 0.0, gated: bool = False) -> None:
        self.status, self.delay_s = status, delay_s
        self.gate = threading.Event()
        if not gated:
            self.gate.set()
        self.entered = threading.Event()
        self.received: list[str] = []
        self.on_request: Callable[[], None] = lambda: None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(self.headers["Aftersales-Delivery"])
                receiver.on_request()
                receiver.entered.set()
                receiver.gate.wait(30)
                time.sleep(receiver.delay_s)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()


class Trickler:
    """A raw socket server on 127.0.0.1 that reads a request, then sends a complete, valid ``200``
    answer one byte per second (about 40 s in all). ``cut`` is set when the client hung up before the
    last byte; ``active`` tells whether a connection is being trickled to right now."""

    ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.active, self.cut, self.finished = threading.Event(), threading.Event(), threading.Event()
        self.sent = 0
        self._closed = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            self.active.set()
            try:
                for i in range(len(self.ANSWER)):
                    conn.sendall(self.ANSWER[i : i + 1])
                    self.sent += 1
                    time.sleep(1.0)
                    if self._closed:
                        return
                self.finished.set()
            except OSError:  # the client hung up (reset / broken pipe)
                self.cut.set()
            finally:
                self.active.clear()

    def close(self) -> None:
        self._closed = True
        self.sock.close()


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(**kwargs: object) -> Receiver:
        made.append(Receiver(**kwargs))  # type: ignore[arg-type]
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture
def trickler() -> Iterator[Trickler]:
    t = Trickler()
    yield t
    t.close()


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    """Poll ``condition`` (a bound on waiting, not a timed assertion)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


@pytest.fixture(name="wait_until")
def _wait_until() -> Callable[..., None]:
    return wait_until


@pytest.fixture
def loopback() -> DestinationPolicy:
    """The destination policy of these tests: loopback allowed, as ``AFTERSALES_WEBHOOK_ALLOW_HOSTS``
    would for local development."""
    return LOOPBACK
