"""A migrated store (SQLite file, PostgreSQL) with a few customers, products and orders, and the
survey documents the tests apply."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from aftersales.adapters.sql import survey_tables  # noqa: F401 - registers the survey tables on metadata
from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.repositories import unit_of_work_factory
from aftersales.adapters.sql.tables import metadata
from aftersales.services.operational.surveys.links import SurveyLinks
from aftersales.services.ports import UnitOfWorkFactory

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
KEY = b"survey-test-key-of-32-bytes!!!!!"

NPS_DOC: dict[str, Any] = {
    "name": "post-delivery-nps",
    "kind": "nps",
    "question": {"en": "How likely are you to recommend us?", "de": "Wie wahrscheinlich empfehlen Sie uns?"},
    "scale_labels": {"en": {"low": "Not likely", "high": "Very likely"}},
    "dimensions": [
        {"id": "shipping", "question": {"en": "How was the delivery?", "de": "Wie war die Lieferung?"}},
        {"id": "product", "question": {"en": "How is the product?"}},
    ],
    "comment": {"en": "Anything else?", "de": "Sonst noch etwas?"},
    "thank_you": {"en": "Thank you!", "de": "Danke!"},
}
REVIEW_DOC: dict[str, Any] = {
    "name": "product-review",
    "kind": "review",
    "question": {"en": "How do you rate it?"},
    "incentivised": True,
    "throttle": {"survey": "0d", "global": "0d"},
}


@dataclass
class Store:
    url: str
    engine: Engine
    uow: UnitOfWorkFactory
    links: SurveyLinks

    def seed(self, customers: int = 5) -> None:
        with self.uow() as u:
            u.resources.insert(
                "customers",
                [
                    {"customer_id": f"c{i}", "name": f"Ana{i} Ruiz", "email": f"c{i}@example.com",
                     "email_consent": True, "locale": "de_CH" if i == 2 else None,
                     "created_at": T0 - timedelta(days=400)}
                    for i in range(1, customers + 1)
                ],
            )  # fmt: skip
            u.resources.insert("products", [{"product_id": f"P{i}", "name": f"Grinder {i}"} for i in (1, 2)])
            u.resources.insert(
                "orders",
                [
                    {"order_id": f"o{i}", "customer_id": f"c{1 + i % customers}", "ordered_at": T0 - timedelta(days=10),
                     "status": status, "revenue": 10}
                    for i, status in enumerate(["delivered", "delivered", "returned", "cancelled", "delivered"])
                ],
            )  # fmt: skip

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of ``table``, in key order."""
        t = metadata.tables[table]
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns)).mappings()]


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    engine = make_engine(store_url)
    s = Store(store_url, engine, unit_of_work_factory(engine), SurveyLinks(KEY, "http://surveys.test"))
    s.seed()
    yield s
    engine.dispose()


@dataclass
class Site:
    """The API app (with the survey pages) on a real uvicorn server on loopback, on the store."""

    url: str
    store: Store
    keys: dict[str, str]

    def client(self, scope: str | None = None) -> Any:
        import httpx

        headers = {"Authorization": f"Bearer {self.keys[scope]}"} if scope else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, follow_redirects=False)


@pytest.fixture
def site(store: Store) -> Iterator[Site]:
    import socket
    import threading
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
    plane = bootstrap.service_plane(store.url)
    app = create_app(Settings(database_url=store.url, secret_key=KEY.decode(), public_url=url), plane=plane)
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
    store.links = SurveyLinks(KEY, url)
    try:
        yield Site(url, store, keys)
    finally:
        server.should_exit = True
        thread.join(20)
        plane.close()
