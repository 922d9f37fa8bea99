"""A store on SQLite and PostgreSQL (a database named per run) holding a hand-made segment, and a
loopback receiver that verifies signatures and applies audience batches once per idempotency key.

Members of segment ``vip`` (seg_vip), as stored and with their consent:

====  ======================  ===============  ==========  =====  =====  ===============================
id    email                   phone            country     e-ok   sms    leaves?
====  ======================  ===============  ==========  =====  =====  ===============================
c01   " John.Smith@GMAIL.com" "020 7946 0958"  GB          yes    yes    e-mail + phone
c02   zoe@example.de          "0170 1234567"   DE          no     yes    phone
c03   (none)                  "(415) 555-2671" US          yes    yes    phone
c04   x@example.com           "+1 650 555 1212" US         yes    no     e-mail
c05   no@example.com          "+14155550000"   US          no     no     no consent
c06   (none)                  (none)           US          yes    yes    no identifier
c07   (none)                  "12"             GB          yes    yes    unparseable phone
====  ======================  ===============  ==========  =====  =====  ===============================

c08 left the segment (``exited_at`` set) and c09 is a member of another segment only.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, update

from aftersales.adapters.channels.webhooks import verify_signature
from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.migrate import upgrade
from aftersales.adapters.sql.repositories.audiences import audience_store
from aftersales.adapters.sql.segment_tables import segment_memberships, segments
from aftersales.adapters.sql.tables import TABLES

T0 = datetime(2024, 6, 30, 12, tzinfo=UTC)
CUSTOMERS = [  # customer_id, email, phone, name, country, email_consent, sms_consent
    ("c01", " John.Smith@GMAIL.com ", "020 7946 0958", "John Smith", "GB", True, True),
    ("c02", "zoe@example.de", "0170 1234567", "Zoë Müller", "DE", False, True),
    ("c03", None, "(415) 555-2671", "D'Arcy O'Neil", "US", True, True),
    ("c04", "x@example.com", "+1 650 555 1212", "Cher", "US", True, False),
    ("c05", "no@example.com", "+14155550000", "A B", "US", False, False),
    ("c06", None, None, "A B", "US", True, True),
    ("c07", None, "12", "A B", "GB", True, True),
    ("c08", "gone@example.com", None, "A B", "US", True, True),
    ("c09", "other@example.com", None, "A B", "US", True, True),
]
VIP = [f"c0{i}" for i in range(1, 8)]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated store URL holding the customers and segments above."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("fresh_postgres_database")(f"aftersales_aud_{uuid.uuid4().hex[:12]}")
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        keys = ("customer_id", "email", "phone", "name", "country", "email_consent", "sms_consent")
        conn.execute(insert(TABLES["customers"]), [dict(zip(keys, c, strict=True)) for c in CUSTOMERS])
        for seg, name in (("seg_vip", "vip"), ("seg_other", "other")):
            conn.execute(insert(segments).values(segment_id=seg, name=name, definition_json="{}",
                                                 definition_text="true", created_at=T0, updated_at=T0))  # fmt: skip
        rows = [dict(segment_id="seg_vip", customer_id=c, entered_at=T0) for c in [*VIP, "c08"]]
        rows.append(dict(segment_id="seg_other", customer_id="c09", entered_at=T0))
        conn.execute(insert(segment_memberships), rows)
        conn.execute(update(segment_memberships).where(segment_memberships.c.customer_id == "c08").values(exited_at=T0))
    engine.dispose()
    drop = request.getfixturevalue("drop_database")  # asked before teardown, as pytest requires
    yield url
    if request.param == "postgres":
        drop(url)


@pytest.fixture
def audience(store: str) -> Iterator[Any]:
    """The audience service's unit of work on the store."""
    engine = make_engine(store)
    yield audience_store(engine)
    engine.dispose()


def set_membership(url: str, segment_id: str, *, enter: list[str] = (), leave: list[str] = ()) -> None:  # type: ignore[assignment]
    """Move customers in or out of a segment, as a refresh would."""
    engine = make_engine(url)
    with engine.begin() as conn:
        if enter:
            at = datetime.now(UTC)
            conn.execute(insert(segment_memberships), [dict(segment_id=segment_id, customer_id=c, entered_at=at)
                                                       for c in enter])  # fmt: skip
        m = segment_memberships.c
        for c in leave:
            current = (m.segment_id == segment_id, m.customer_id == c, m.exited_at.is_(None))
            conn.execute(update(segment_memberships).where(*current).values(exited_at=datetime.now(UTC)))
    engine.dispose()


def set_customer(url: str, customer_id: str, **values: Any) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        c = TABLES["customers"]
        conn.execute(update(c).where(c.c.customer_id == customer_id).values(**values))
    engine.dispose()


class AudienceReceiver:
    """A destination on 127.0.0.1: checks each batch's signature (``secret``, set after the destination
    is added), applies it to ``mirror`` unless its key (``Aftersales-Delivery``) was applied already,
    and answers 200. ``fail`` maps a request number (1-based) to ``"before"`` (answer 500 without
    applying) or ``"after"`` (apply, then answer 500: the acknowledgement is lost)."""

    def __init__(self) -> None:
        self.secret = ""
        self.mirror: dict[str, dict[str, str]] = {}
        self.applied: list[str] = []  # keys, in the order first applied
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.ops_applied = 0
        self.bad_signatures = 0
        self.fail: dict[int, str] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8")
                status = receiver.handle(self.headers["Aftersales-Delivery"], self.headers["Aftersales-Signature"], raw)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/audience"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handle(self, key: str, signature: str, raw: str) -> int:
        with self._lock:
            body = json.loads(raw)
            self.requests.append((key, body))
            if not verify_signature(self.secret, signature, raw):
                self.bad_signatures += 1
                return 401
            mode = self.fail.get(len(self.requests))
            if mode == "before":
                return 500
            if key not in self.applied:
                self.applied.append(key)
                for rec in body["adds"]:
                    self.mirror[rec["customer_id"]] = rec
                for rec in body["removes"]:
                    self.mirror.pop(rec["customer_id"], None)
                self.ops_applied += len(body["adds"]) + len(body["removes"])
            return 500 if mode == "after" else 200

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[AudienceReceiver]:
    r = AudienceReceiver()
    yield r
    r.close()


@pytest.fixture(name="set_membership")
def _set_membership() -> Callable[..., None]:
    return set_membership


@pytest.fixture(name="set_customer")
def _set_customer() -> Callable[..., None]:
    return set_customer
