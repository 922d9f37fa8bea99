"""``GET /v1/customers/{id}/profile`` over real HTTP on SQLite and PostgreSQL: the hand-made store
(tests/integration/profiles/handmade.py) refreshed with ``bootstrap.refresh``, then read back."""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

from sqlalchemy import insert

from aftersales import bootstrap
from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.tables import TABLES


def _handmade() -> ModuleType:
    name = "aftersales_tests_profiles_handmade"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "profiles" / "handmade.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_a_customer_profile_after_a_refresh(api, store_url: str) -> None:  # type: ignore[no-untyped-def]
    h = _handmade()
    engine = make_engine(store_url)
    with engine.begin() as conn:
        for name in h.ROWS:
            conn.execute(insert(TABLES[name]), h.store_rows(name))
    engine.dispose()
    with api.client("read") as c:
        before = c.get("/v1/customers/c1/profile")
        assert before.status_code == 404 and before.headers["content-type"] == "application/problem+json"
        summary = bootstrap.refresh(store_url, as_of=date(2024, 7, 1))
        assert summary.profiles.written == 8
        r = c.get("/v1/customers/c1/profile")
        assert r.status_code == 200, r.text
        body = r.json()
        for k, v in h.EXPECTED["c1"].items():
            got = body[k]
            assert (got.replace("Z", "+00:00") if isinstance(got, str) and k.endswith("_at") else got) == (
                v.isoformat() if hasattr(v, "isoformat") else v
            ), k
        assert body["predictive_note"] == summary.profiles.build.predictive_note and body["p_alive"] is None
        missing = c.get("/v1/customers/nobody/profile")
        assert missing.status_code == 404 and "nobody" in missing.json()["detail"]
    with api.client(None) as anonymous:
        assert anonymous.get("/v1/customers/c1/profile").status_code == 401
