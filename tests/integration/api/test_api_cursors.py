"""List cursors are client input: every list refuses, with a 400 problem, a cursor whose shape or
value types do not fit its key, on both stores (before, values the database could not compare with
the key column reached the query: 500s, most of them on PostgreSQL only)."""

from __future__ import annotations

import base64
import uuid

import pytest

LISTS = [
    "/v1/customers",
    "/v1/orders",
    "/v1/survey-responses",
    "/v1/scores",
    "/v1/webhook-subscriptions",
    "/v1/webhook-deliveries",
]
FOREIGN = [
    '[{"a":1}]',
    "[5]",
    "[true]",
    "[1.5]",
    "[NaN]",
    "[Infinity]",
    "[-Infinity]",
    "[[1,2]]",
    f"[{2**70}]",
    "[null]",
    "[]",
    '["a","b","c"]',
    '{"a":1}',
    '"a"',
    '["\\ud800"]',  # a lone surrogate: no UTF-8 form to send to the database
    "[" * 740 + "]" * 740,  # as deep as the 2,000 characters a cursor may have allow
]


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("path", LISTS)
def test_a_cursor_that_does_not_fit_the_lists_key_is_a_400(api, path: str) -> None:
    with api.client() as c:
        for value in FOREIGN:
            r = c.get(path, params={"cursor": _cursor(value)})
            assert r.status_code == 400, (value[:20], r.status_code, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["detail"] == "invalid cursor: pass back next_cursor exactly as received"
        assert c.get(path, params={"cursor": _cursor('["x"]')}).status_code == (
            400 if path == "/v1/survey-responses" else 200  # its key has two columns
        )


def test_a_two_column_key_pages_with_its_own_cursors(api) -> None:
    with api.client() as c:
        cust = f"c-{uuid.uuid4().hex[:8]}"
        assert c.post("/v1/customers", json={"customer_id": cust}).status_code == 201
        for rid in ("r1", "r2"):
            for kind in ("nps", "csat"):
                body = {
                    "response_id": f"{cust}-{rid}",
                    "dimension": f"{kind}-q",
                    "survey_id": "s1",
                    "customer_id": cust,
                    "kind": kind,
                    "score": 4,
                    "responded_at": "2024-03-01T10:00:00Z",
                }
                r = c.post("/v1/survey-responses", json=body)
                assert r.status_code == 201, r.text
        seen, cursor = [], None
        while True:
            params = {"limit": 1, "customer_id": cust, **({"cursor": cursor} if cursor else {})}
            page = c.get("/v1/survey-responses", params=params)
            assert page.status_code == 200, page.text
            seen += [(i["response_id"], i["dimension"]) for i in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
    assert seen == sorted(seen) and len(seen) == 4
