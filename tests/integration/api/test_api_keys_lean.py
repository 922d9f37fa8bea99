"""A key made by ``aftersales keys create`` on its lean path (issue 11: no SQLAlchemy, the plain
driver) is one the running API accepts, with its scope, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest

from aftersales.entrypoints.cli import fast_keys


def _lean_key(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert fast_keys.create(list(args))  # True: the lean path stored it, the full path did not run
    out, err = capsys.readouterr()
    key = out.strip()
    assert key.startswith("as_") and "not shown again" in err and key not in err
    return key


def test_a_lean_ingest_key_writes_but_cannot_read(api, store_url, capsys) -> None:
    key = _lean_key(capsys, "--scope", "ingest", "--name", "lean shop", "--db", store_url)
    with httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as c:
        assert c.post("/v1/customers", json={"customer_id": "lean-1"}).status_code == 201
        assert c.get("/v1/customers/lean-1").status_code == 403  # ingest cannot read
    with api.client("read") as c:
        assert c.get("/v1/customers/lean-1").status_code == 200


def test_a_lean_read_key_reads_and_a_wrong_secret_is_refused(api, store_url, capsys) -> None:
    key = _lean_key(capsys, f"--db={store_url}", "--scope=read")
    with httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as c:
        assert c.get("/v1/customers?limit=1").status_code == 200
        assert c.post("/v1/customers", json={"customer_id": "lean-2"}).status_code == 403
    forged = key[:-1] + ("A" if key[-1] != "A" else "B")
    with httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {forged}"}, timeout=30) as c:
        assert c.get("/v1/customers?limit=1").status_code == 401
