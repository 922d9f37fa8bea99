"""Every /v1 route (resources, events, webhooks, metrics, scores, segments, profiles, messages, suppressions,
journeys) x {no key, bogus key, revoked key, wrong scope}: 401, 401, 401, 403; health and the public pages
customers open from e-mail (unsubscribe, preferences: the signed token is their credential) are open."""

from __future__ import annotations

import re

import httpx
import pytest

from aftersales.services.operational.api_keys import hash_key


def _required_scope(method: str, path: str) -> str:
    """The scope each route should demand, written down independently of the code."""
    if path.startswith("/v1/webhook") or path == "/v1/scores/refresh":
        return "admin"
    if path.startswith("/v1/segments"):  # saved segments are configuration; a preview only reads
        return "read" if method == "GET" or path == "/v1/segments/preview" else "admin"
    if path.startswith(("/v1/journeys", "/v1/suppressions")):  # journeys and suppressions are configuration
        return "read" if method == "GET" else "admin"
    if path.startswith(("/v1/surveys", "/v1/reviews")):  # surveys are configuration; moderation is admin's
        return "read" if method == "GET" or path.endswith("/preview") else "admin"
    if path.startswith("/v1/loyalty"):  # a shop redeems its customers' points; the program and awards are admin's
        return "read" if method == "GET" else "ingest" if path == "/v1/loyalty/redemptions" else "admin"
    return "read" if method == "GET" else "ingest"


def _routes(app: object) -> list[tuple[str, str]]:
    """Every operation the OpenAPI schema documents under /v1, path parameters filled in."""
    paths = app.openapi()["paths"]  # type: ignore[attr-defined]
    return [(m.upper(), re.sub(r"\{[^}]+\}", "x", p)) for p, ops in paths.items() if p.startswith("/v1") for m in ops]


def test_the_matrix_covers_every_resource_and_webhook_route(api) -> None:
    routes = _routes(api.app)
    # resources x (create, update, read, list), events, webhooks, metrics + scores (read, list, refresh),
    # segments (create, list, read, update, delete, preview, members, sizes), profile, messages (list,
    # progress), suppressions (list, add, remove), journeys (schema, list, create, read, apply, archive,
    # pause, resume, report, enrollments, remove an enrollment), loyalty (program read and apply, member,
    # history, redemptions, awards, liability), surveys (list, read, apply, archive, preview, report,
    # drivers, themes, remeasure), reviews (list, export, moderate)
    assert len(routes) == 7 * 4 + 1 + 7 + 4 + 8 + 1 + 2 + 3 + 11 + 7 + 12
    assert ("POST", "/v1/events") in routes
    assert {("GET", "/v1/metrics"), ("GET", "/v1/customers/x/scores"), ("GET", "/v1/scores")} <= set(routes)
    assert ("POST", "/v1/scores/refresh") in routes
    assert {("POST", "/v1/segments/preview"), ("GET", "/v1/customers/x/profile")} <= set(routes)


@pytest.mark.parametrize("who", ["none", "bogus", "revoked", "malformed"])
def test_every_route_refuses_a_missing_or_bad_key_with_401(api, who: str) -> None:
    headers = {"none": {}, "malformed": {"Authorization": "Basic abc"}}.get(
        who, {"Authorization": f"Bearer {api.keys.get(who)}"}
    )
    with httpx.Client(base_url=api.url, timeout=30) as c:
        for method, path in _routes(api.app):
            r = c.request(method, path, json={}, headers=headers)
            assert r.status_code == 401, (method, path, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            assert r.headers["www-authenticate"] == "Bearer"


def test_every_route_refuses_a_key_with_the_wrong_scope_with_403(api) -> None:
    clients = {s: api.client(s) for s in ("read", "ingest", "admin")}
    for method, path in _routes(api.app):
        needed = _required_scope(method, path)
        for scope, client in clients.items():
            r = client.request(method, path, json={})
            if scope == needed or scope == "admin":
                assert r.status_code != 403, (method, path, scope)
            else:
                assert r.status_code == 403, (method, path, scope, r.text)
                assert r.json()["title"] == "Forbidden"
    for c in clients.values():
        c.close()


def test_health_and_readiness_need_no_key(api) -> None:
    with httpx.Client(base_url=api.url) as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        assert c.get("/readyz").json() == {"status": "ready"}


def test_keys_are_stored_only_as_hashes(api) -> None:
    from sqlalchemy import text

    with api.plane.engine.connect() as conn:
        stored = {r[0] for r in conn.execute(text("SELECT secret_hash FROM api_keys"))}
        dump = " ".join(str(v) for row in conn.execute(text("SELECT * FROM api_keys")) for v in row)
    assert hash_key(api.keys["admin"]) in stored
    assert api.keys["admin"] not in dump
