"""Product reviews (SQLite and PostgreSQL): moderation states, edits that need moderating again, the
incentive disclosed, and the export's schema.org JSON-LD validated for its structure."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import jsonschema
import pytest

from aftersales.core.errors import NotFoundError, ValidationError
from aftersales.core.surveys.parse import parse_survey
from aftersales.core.surveys.reviews import DISCLOSURE
from aftersales.services.operational.surveys import definitions, responses, reviews, sends

from .conftest import REVIEW_DOC, T0, Store

_RATING = {"type": "number", "minimum": 1, "maximum": 5}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
# What search engines read from a product page's review snippet (schema.org Product, AggregateRating, Review).
JSON_LD = {
    "type": "object",
    "required": ["@context", "@type", "name"],
    "properties": {
        "@context": {"const": "https://schema.org"},
        "@type": {"const": "Product"},
        "name": {"type": "string", "minLength": 1},
        "sku": {"type": "string"},
        "aggregateRating": {
            "type": "object",
            "required": ["@type", "ratingValue", "reviewCount", "bestRating", "worstRating"],
            "properties": {
                "@type": {"const": "AggregateRating"},
                "ratingValue": _RATING,
                "reviewCount": {"type": "integer", "minimum": 1},
                "ratingCount": {"type": "integer", "minimum": 1},
                "bestRating": {"const": 5},
                "worstRating": {"const": 1},
            },
            "additionalProperties": False,
        },
        "review": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["@type", "reviewRating", "author", "datePublished"],
                "properties": {
                    "@type": {"const": "Review"},
                    "reviewRating": {
                        "type": "object",
                        "required": ["@type", "ratingValue", "bestRating", "worstRating"],
                        "properties": {"@type": {"const": "Rating"}, "ratingValue": _RATING},
                    },
                    "author": {
                        "type": "object",
                        "required": ["@type", "name"],
                        "properties": {"@type": {"enum": ["Person", "Organization"]}, "name": {"type": "string"}},
                    },
                    "datePublished": _DATE,
                    "name": {"type": "string"},
                    "reviewBody": {"type": "string"},
                    "sponsor": {"type": "object", "required": ["@type", "name"]},
                },
                "additionalProperties": False,
            },
        },
    },
    "dependentRequired": {"aggregateRating": ["review"], "review": ["aggregateRating"]},
    "additionalProperties": False,
}


def _review(
    store: Store, customer: str, product: str, form: dict[str, list[str]], doc: dict[str, Any] = REVIEW_DOC
) -> str:
    definitions.apply(store.uow, parse_survey(doc), now=T0)
    opened = sends.open_send(store.uow, doc["name"], customer, key=f"{customer}-{product}", now=T0, product_id=product)
    assert opened.send is not None
    token = store.links.token(opened.send)
    responses.submit_page(store.uow, store.links, token, form, now=T0 + timedelta(hours=1))
    return token


def _ids(store: Store, status: str | None = None) -> list[str]:
    return [r.review_id for r in reviews.list_reviews(store.uow, status=status).items]


def test_moderation_publishes_and_an_edit_needs_moderating_again(store: Store) -> None:
    token = _review(store, "c1", "P1", {"score": ["4"], "title": ["Good"], "comment": ["Solid grinder."]})
    [rid] = _ids(store, "pending")
    published = reviews.moderate(store.uow, rid, "publish", now=T0 + timedelta(days=1), note="ok")
    assert published.status == "published" and published.published_at == T0 + timedelta(days=1)
    assert [e["name"] for e in store.rows("events")] == ["review.submitted", "review.published"]
    responses.submit_page(
        store.uow, store.links, token, {"score": ["2"], "title": ["Broke"]}, now=T0 + timedelta(days=2)
    )
    [edited] = reviews.list_reviews(store.uow).items
    assert (edited.status, edited.rating, edited.title, edited.body, edited.published_at) == (
        "pending",
        2,
        "Broke",
        None,
        None,
    )
    assert edited.moderation_note == "ok"
    rejected = reviews.moderate(store.uow, rid, "reject", now=T0 + timedelta(days=3), incentivised=False)
    assert rejected.status == "rejected" and not rejected.incentivised
    with pytest.raises(ValidationError, match="one of: publish, reject, pending"):
        reviews.moderate(store.uow, rid, "delete", now=T0)
    with pytest.raises(NotFoundError):
        reviews.moderate(store.uow, "rev_nope", "publish", now=T0)
    with pytest.raises(ValidationError):
        reviews.list_reviews(store.uow, status="hidden")


def test_lists_page_by_cursor(store: Store) -> None:
    for i, customer in enumerate(["c1", "c2", "c3", "c4", "c5"]):
        _review(store, customer, "P1", {"score": [str(1 + i)]})
    first = reviews.list_reviews(store.uow, limit=2)
    second = reviews.list_reviews(store.uow, limit=2, cursor=first.next_cursor)
    third = reviews.list_reviews(store.uow, limit=2, cursor=second.next_cursor)
    ids = [r.review_id for page in (first, second, third) for r in page.items]
    assert len(ids) == len(set(ids)) == 5 and ids == sorted(ids) and third.next_cursor is None
    assert [r.rating for r in reviews.list_reviews(store.uow, product_id="P2").items] == []


def test_the_export_is_schema_org_json_ld_with_the_incentive_disclosed(store: Store) -> None:
    plain = REVIEW_DOC | {"name": "plain-review", "incentivised": False}
    _review(store, "c1", "P1", {"score": ["5"], "title": ["Love it"], "comment": ["Great <coffee> & crema"]})
    _review(store, "c2", "P1", {"score": ["2"]}, plain)
    _review(store, "c3", "P2", {"score": ["4"], "comment": ["Not published"]})
    for r in reviews.list_reviews(store.uow, product_id="P1").items:
        reviews.moderate(store.uow, r.review_id, "publish", now=T0 + timedelta(days=1))
    docs = reviews.export(store.uow, seller="Kaffee & Co")
    assert [d["product_id"] for d in docs] == ["P1"]
    [doc] = docs
    ld = json.loads(json.dumps(doc["json_ld"]))  # plain JSON all the way down
    jsonschema.validate(ld, JSON_LD, cls=jsonschema.Draft202012Validator)
    assert ld["name"] == "Grinder 1" and ld["aggregateRating"]["ratingValue"] == 3.5
    assert ld["aggregateRating"]["reviewCount"] == 2 == doc["review_count"]
    incentivised = [r for r in doc["reviews"] if r["incentivised"]]
    assert len(incentivised) == 1 and incentivised[0]["disclosure"] == DISCLOSURE and doc["incentivised_count"] == 1
    assert [r.get("sponsor") for r in ld["review"]].count({"@type": "Organization", "name": "Kaffee & Co"}) == 1
    assert {r["author"]["name"] for r in ld["review"]} == {"Ana1 R.", "Ana2 R."}
    assert any(r.get("reviewBody") == "Great <coffee> & crema" for r in ld["review"])
    empty = reviews.export(store.uow, product_ids=["P2"])
    assert empty[0]["review_count"] == 0 and "aggregateRating" not in empty[0]["json_ld"]
    jsonschema.validate(empty[0]["json_ld"], JSON_LD, cls=jsonschema.Draft202012Validator)
