"""A migrated store (SQLite file, PostgreSQL) seeded with customers, one journey, its enrollments and
queued messages, the way the journey runtime writes them; and a real SMTP sink (aiosmtpd) on loopback."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from sqlalchemy import Engine, insert, update

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.journey_tables import journey_enrollments, journeys
from aftersales.adapters.sql.repositories import unit_of_work_factory
from aftersales.services.ports import UnitOfWorkFactory
from aftersales.services.ports_messages import MessageRecord

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, noon UTC


def message_id(enrollment_id: str, step_id: str) -> str:
    return "msg_" + hashlib.blake2b(f"{enrollment_id}|{step_id}".encode(), digest_size=10).hexdigest()


@dataclass
class Seed:
    """Writes what the other parts would have written: customers, a journey, enrollments, messages."""

    engine: Engine
    uow: UnitOfWorkFactory
    url: str = ""
    t0: datetime = T0
    journey_id: str = "jny_test"
    journeys_made: set[str] = field(default_factory=set)

    def customer(
        self,
        customer_id: str,
        *,
        email: str | None = None,
        consent: bool = True,
        timezone: str | None = None,
        locale: str | None = None,
        name: str | None = "Ana María Ruiz",
    ) -> str:
        row = {
            "customer_id": customer_id,
            "email": email if email is not None else f"{customer_id}@example.com",
            "name": name,
            "email_consent": consent,
            "timezone": timezone,
            "locale": locale,
            "created_at": T0 - timedelta(days=400),
        }
        with self.uow() as u:
            u.resources.insert("customers", [row])
        return customer_id

    def set_customer(self, customer_id: str, **changes: object) -> None:
        with self.uow() as u:
            u.resources.update("customers", {"customer_id": customer_id}, changes)

    def journey(self, journey_id: str | None = None, *, status: str = "active") -> str:
        jid = journey_id or self.journey_id
        if jid not in self.journeys_made:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(journeys).values(
                        journey_id=jid, name=jid.removeprefix("jny_"), version=1, definition_json="{}",
                        status=status, salt="s", created_at=T0, updated_at=T0, activated_at=T0,
                    )
                )  # fmt: skip
            self.journeys_made.add(jid)
        return jid

    def set_journey_status(self, journey_id: str, status: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(journeys).where(journeys.c.journey_id == journey_id).values(status=status))

    def message(
        self,
        customer_id: str,
        step_id: str = "thanks",
        *,
        channel: str = "email",
        category: str = "marketing",
        topic: str = "post_purchase",
        params: dict[str, object] | None = None,
        not_before: datetime = T0,
        journey_id: str | None = None,
        trigger: dict[str, object] | None = None,
    ) -> MessageRecord:
        jid = self.journey(journey_id)
        enrollment_id = "enr_" + hashlib.blake2b(f"{jid}|{customer_id}".encode(), digest_size=10).hexdigest()
        with self.engine.begin() as conn:
            exists = conn.execute(
                journey_enrollments.select().where(journey_enrollments.c.enrollment_id == enrollment_id)
            ).first()
            if exists is None:
                conn.execute(
                    insert(journey_enrollments).values(
                        enrollment_id=enrollment_id, journey_id=jid, customer_id=customer_id,
                        trigger_key=customer_id, trigger_json=json.dumps(trigger or {"order_id": "o-1"}),
                        version=1, arm="journey", status="active", step_id=step_id, entered_at=not_before,
                    )
                )  # fmt: skip
        record = MessageRecord(
            message_id(enrollment_id, step_id), enrollment_id, jid, step_id, customer_id, channel, category,
            topic, None, params if params is not None else {"template": "thanks"}, "queued", not_before, 0,
            not_before,
        )  # fmt: skip
        with self.uow() as u:
            assert u.messages.add([record]) == 1
        return record

    def get(self, message_id: str) -> MessageRecord:
        with self.uow() as u:
            m = u.messages.get(message_id)
        assert m is not None
        return m


@pytest.fixture
def seed(store_url: str) -> Iterator[Seed]:
    engine = make_engine(store_url)
    yield Seed(engine, unit_of_work_factory(engine), store_url)
    engine.dispose()


class SmtpSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it accepts; ``refuse``
    maps a recipient address to the reply RCPT TO gets instead of 250."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[EmailMessage] = []
        self.refuse: dict[str, str] = {}
        self.lock = threading.Lock()
        self.on_data: Callable[[], None] = lambda: None  # runs after a message is kept, before the reply
        sink = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if address in sink.refuse:
                    return sink.refuse[address]
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                parsed = message_from_bytes(envelope.content, policy=policy.default)
                with sink.lock:
                    sink.messages.append(parsed)  # type: ignore[arg-type]
                await asyncio.get_running_loop().run_in_executor(None, sink.on_data)
                return "250 Message accepted"

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(m["Message-ID"]) for m in self.messages]

    def stop(self) -> None:
        self.controller.stop()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    yield sink
    sink.stop()


TEMPLATES = {
    "thanks/en.html": (
        "---\nsubject: \"Thanks, {{ first_name|default('there') }}\"\n---\n"
        "<html><body><p>Hello {{ first_name }}, tier {{ clv_tier }}.</p>"
        '{% if unsubscribe_url is defined %}<a href="{{ unsubscribe_url }}">Unsubscribe</a>{% endif %}'
        '<a href="{{ preferences_url }}">Preferences</a></body></html>\n'
    ),
    "thanks/de.html": '---\nsubject: "Danke, {{ first_name }}"\n---\n<p>Hallo {{ first_name }}</p>\n',
    "broken/en.html": "---\nsubject: Broken\n---\n<p>{{ first_name.__class__ }}</p>\n",
}


@dataclass
class Delivery:
    """``send_due`` wired to the seed's store, a manual clock and a transport (the SMTP sink by default)."""

    seed: Seed
    clock: object
    email: object | None
    webhook: object | None = None
    rate: float = 1000.0
    quiet: str = "21:00-08:00"
    cap: str = "3/7d"
    allow: tuple[str, ...] = ()
    key: bytes = b"k" * 32
    max_attempts: int = 3

    def config(self) -> object:
        from aftersales.services.operational.messaging.delivery import DeliveryConfig
        from aftersales.services.operational.webhooks import RetryPolicy

        return DeliveryConfig(
            mail_from="Shop <noreply@shop.example>",
            public_url="http://127.0.0.1:8000",
            send_rate_per_s=self.rate,
            default_timezone="UTC",
            webhook_allow_hosts=self.allow,
            lease_s=60.0,
            retry=RetryPolicy(max_attempts=self.max_attempts, base_s=60.0, max_delay_s=600.0),
        )

    def signer(self) -> object:
        from aftersales.services.operational.messaging.links import LinkSigner

        return LinkSigner(self.key, "http://127.0.0.1:8000")

    def run(self, limit: int = 100, uow: UnitOfWorkFactory | None = None) -> object:
        from aftersales.core.journeys.policy import SendPolicy, parse_frequency_cap, parse_quiet_hours
        from aftersales.core.messaging.templates import TemplateCatalog
        from aftersales.services.operational.messaging.delivery import Transports, send_due

        return send_due(
            uow or self.seed.uow,
            transports=Transports(email=self.email, webhook=self.webhook),  # type: ignore[arg-type]
            clock=self.clock,  # type: ignore[arg-type]
            policy=SendPolicy(parse_quiet_hours(self.quiet), *parse_frequency_cap(self.cap)),
            signer=self.signer(),  # type: ignore[arg-type]
            config=self.config(),  # type: ignore[arg-type]
            catalog=TemplateCatalog.from_sources(TEMPLATES),
            limit=limit,
        )


@pytest.fixture
def delivery(seed: Seed, smtp_sink: SmtpSink) -> Iterator[Delivery]:
    from aftersales.adapters.channels.smtp import SmtpTransport
    from aftersales.services.clock import ManualClock

    transport = SmtpTransport("127.0.0.1", smtp_sink.port, timeout=10)
    yield Delivery(seed, ManualClock(T0), transport)
    transport.close()


SITE_KEY = "a-test-signing-key-of-32-bytes!!"


@dataclass
class Site:
    """The API app (with the public pages) on a real uvicorn server on loopback, on the seed's store."""

    url: str
    plane: object
    keys: dict[str, str]

    def client(self, scope: str | None = None) -> object:
        import httpx

        headers = {"Authorization": f"Bearer {self.keys[scope]}"} if scope else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, follow_redirects=False)

    def signer(self, ttl: timedelta = timedelta(days=365)) -> object:
        from aftersales.services.operational.messaging.links import LinkSigner

        return LinkSigner(SITE_KEY.encode(), self.url, ttl)


@pytest.fixture
def site(seed: Seed) -> Iterator[Site]:
    import time

    import uvicorn

    from aftersales import bootstrap
    from aftersales.config import Settings
    from aftersales.entrypoints.api import create_app
    from aftersales.services.operational import api_keys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    plane = bootstrap.service_plane(seed.url)
    app = create_app(Settings(database_url=seed.url, secret_key=SITE_KEY, public_url=url), plane=plane)
    keys = {scope: api_keys.create_key(plane.uow, scope).key for scope in ("read", "admin")}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield Site(url, plane, keys)
    finally:
        server.should_exit = True
        thread.join(20)
        plane.close()  # type: ignore[attr-defined]
