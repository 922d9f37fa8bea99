"""Over real HTTP, on an embedded store: the interactive docs work offline (every asset they load is
served by the API itself) and ``/`` leads to them; an unexpected error is a clean 500 problem that
leaves the keep-alive connection open, and does not bind its Idempotency-Key."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aftersales import bootstrap
from aftersales.config import Settings
from aftersales.entrypoints.api import create_app
from aftersales.services.operational import api_keys


class Boom(RuntimeError):
    pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, live_server) -> Iterator[tuple[str, str, list[int]]]:
    """(base URL, an admin key, how many times the failing write ran)."""
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('docs')) / 'store.db'}"
    plane = bootstrap.service_plane(url, migrate=True)
    try:
        app = create_app(Settings(database_url=url), plane=plane)
        runs = [0]

        async def boom() -> None:
            raise Boom("a message that may quote input")

        async def boom_write() -> None:
            runs[0] += 1
            raise Boom("a failing write")

        app.add_api_route("/boom", boom)
        app.add_api_route("/v1/boom", boom_write, methods=["POST"])
        key = api_keys.create_key(plane.uow, "admin").key
        with live_server(app) as server:
            yield server.url, key, runs
    finally:
        plane.close()


def _local_port(r: httpx.Response) -> int | None:
    """The client-side port of the connection that carried ``r`` (None: that connection is closed)."""
    try:
        return r.extensions["network_stream"].get_extra_info("client_addr")[1]
    except OSError:
        return None


def test_root_redirects_to_the_docs(served) -> None:
    r = httpx.get(f"{served[0]}/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/docs"


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_every_asset_from_the_api_itself(served, page: str) -> None:
    with httpx.Client(base_url=served[0]) as c:
        r = c.get(page)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        html = r.text
        assert not re.search(r"https?://|['\"]//", html), "an absolute or protocol-relative URL: not offline"
        refs = re.findall(r"""(?:src|href|spec-url)=["']([^"']+)""", html) + re.findall(r"url: *'([^']+)'", html)
        scripts = [u for u in refs if u.endswith(".js")]
        assert scripts and all(u.startswith("/") for u in refs), refs
        for ref in refs:
            asset = c.get(ref)
            assert asset.status_code == 200 and len(asset.content) > 0, ref
        assert all(len(c.get(u).content) > 100_000 for u in scripts)  # the real bundles, not placeholders


def test_an_unexpected_error_is_a_500_problem_on_a_connection_that_stays_open(served) -> None:
    answers, ports = [], []
    with httpx.Client(base_url=served[0]) as c:
        for path in ("/boom", "/boom", "/healthz"):
            answers.append(c.get(path))
            ports.append(_local_port(answers[-1]))
    for r in answers[:2]:
        assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"] == "internal error; it was logged" and "quote input" not in r.text
    assert answers[2].status_code == 200
    # One TCP connection served all three: the server did not close it after the 500s.
    assert None not in ports and len(set(ports)) == 1, ports


def test_a_500_releases_its_idempotency_key_so_the_retry_runs_again(served) -> None:
    url, key, runs = served
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "boom-1"}
    before = runs[0]
    with httpx.Client(base_url=url, headers=headers) as c:
        first = c.post("/v1/boom", json={})
        port = _local_port(first)
        retry = c.post("/v1/boom", json={})
        assert port is not None and _local_port(retry) == port
    assert first.status_code == retry.status_code == 500
    assert "idempotent-replayed" not in retry.headers and runs[0] == before + 2
