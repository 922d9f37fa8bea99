"""A customer's time zone and locale over real HTTP: normalised as the importers do, checked on
create and update, cleared with null, never echoed back in a problem."""

from __future__ import annotations

import uuid


def _id() -> str:
    return f"tz-{uuid.uuid4().hex[:10]}"


def test_create_normalises_and_read_returns_them(api) -> None:
    cid = _id()
    with api.client() as c:
        created = c.post("/v1/customers", json={"customer_id": cid, "timezone": "europe/berlin", "locale": "de-CH"})
        assert created.status_code == 201, created.text
        got = c.get(f"/v1/customers/{cid}").json()
    assert (got["timezone"], got["locale"]) == ("Europe/Berlin", "de_CH")
    assert got == created.json()


def test_patch_sets_validates_and_clears(api) -> None:
    cid = _id()
    with api.client() as c:
        assert c.post("/v1/customers", json={"customer_id": cid}).status_code == 201
        assert c.get(f"/v1/customers/{cid}").json()["timezone"] is None  # unknown: the default applies
        set_ = c.patch(f"/v1/customers/{cid}", json={"timezone": "America/New_York", "locale": "en_us"})
        assert set_.status_code == 200, set_.text
        assert (set_.json()["timezone"], set_.json()["locale"]) == ("America/New_York", "en_US")
        bad = c.patch(f"/v1/customers/{cid}", json={"timezone": "America/Gotham", "locale": "klingon"})
        assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
        assert bad.json()["errors"] == [
            {"loc": ["body", "timezone"], "message": "not a known IANA time zone (e.g. Europe/Berlin)"},
            {
                "loc": ["body", "locale"],
                "message": "not a known locale (a language, optionally a territory: en, en_US, de-CH)",
            },
        ]
        assert "Gotham" not in bad.text and "klingon" not in bad.text  # input values are not echoed
        kept = c.get(f"/v1/customers/{cid}").json()
        assert (kept["timezone"], kept["locale"]) == ("America/New_York", "en_US")  # nothing written
        cleared = c.patch(f"/v1/customers/{cid}", json={"timezone": None}).json()
        assert (cleared["timezone"], cleared["locale"]) == (None, "en_US")


def test_create_refuses_unknown_values_and_non_strings(api) -> None:
    with api.client() as c:
        for body in (
            {"timezone": "Nowhere/Land"},
            {"timezone": "Europe/Berlin\u0000"},
            {"locale": "en_XQ"},
            {"locale": ""},
            {"timezone": 1},
            {"locale": ["de"]},
        ):
            r = c.post("/v1/customers", json={"customer_id": _id(), **body})
            assert r.status_code == 422, (body, r.text)
            assert [e["loc"][-1] for e in r.json()["errors"]] == list(body), body


def test_the_openapi_schema_lists_the_new_fields(api) -> None:
    with api.client() as c:
        schemas = c.get("/openapi.json").json()["components"]["schemas"]
    for model in ("CustomerCreate", "CustomerUpdate", "Customer"):
        assert {"timezone", "locale"} <= set(schemas[model]["properties"]), model
