"""Product reviews: moderation states, the author's shown name, and the export for a shop's pages.

A review starts ``pending``; a moderator publishes or rejects it (and may put it back to pending).
When the reviewer edits a published or rejected review (a resubmit from the same link), it is
``pending`` again: only moderated text is ever shown. Reviews asked for with an incentive (the
survey's ``incentivised``, or set by a moderator) are **disclosed** in exports: an ``incentivised``
flag and a sentence on each review, and in the JSON-LD a ``sponsor`` (schema.org ``CreativeWork``:
"a person or organization that supports a thing through a pledge, promise, or financial
contribution") naming the shop.

:func:`product_document` builds one product's export: the published reviews with their disclosure,
and schema.org ``Product`` JSON-LD with an ``AggregateRating`` (mean rating and count, only when
there is a review) and one ``Review`` per published review (``reviewRating`` with ``bestRating`` 5
and ``worstRating`` 1, ``author`` a ``Person``, ``datePublished`` a date).

>>> author_name("Ana María Ruiz"), author_name(None), author_name("Prince")
('Ana R.', 'Verified buyer', 'Prince')
>>> moderated("pending", "publish"), edited("published")
('published', 'pending')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aftersales.core.errors import FieldError, ValidationError
from aftersales.core.surveys.model import SCALES

__all__ = [
    "DISCLOSURE",
    "MODERATION_ACTIONS",
    "REVIEW_STATUSES",
    "PublishedReview",
    "author_name",
    "edited",
    "moderated",
    "product_document",
]

REVIEW_STATUSES = ("pending", "published", "rejected")
MODERATION_ACTIONS = {"publish": "published", "reject": "rejected", "pending": "pending"}
DISCLOSURE = "The reviewer received an incentive for writing this review."
WORST, BEST = SCALES["review"]


def moderated(current: str, action: str) -> str:
    """The status after a moderator's ``action`` (publish | reject | pending) on a review in ``current``."""
    if action not in MODERATION_ACTIONS:
        message = f"{action!r} is not one of: {', '.join(MODERATION_ACTIONS)}"
        raise ValidationError(f"action: {message}", [FieldError(("action",), message)])
    if current not in REVIEW_STATUSES:
        raise ValueError(f"unknown review status {current!r}")
    return MODERATION_ACTIONS[action]


def edited(current: str) -> str:
    """The status after the reviewer changed the review: moderated text must be moderated again."""
    return "pending" if current in REVIEW_STATUSES else current


def author_name(full_name: str | None) -> str:
    """The name shown with a review: the first name and the last name's initial."""
    words = (full_name or "").split()
    if not words:
        return "Verified buyer"
    if len(words) == 1:
        return words[0]
    return f"{words[0]} {words[-1][0].upper()}."


@dataclass(frozen=True)
class PublishedReview:
    """A published review as exports show it."""

    review_id: str
    product_id: str
    rating: int
    title: str | None
    text: str | None
    author: str
    published_at: datetime
    incentivised: bool


def _review_ld(r: PublishedReview, seller: str) -> dict[str, Any]:
    ld: dict[str, Any] = {
        "@type": "Review",
        "reviewRating": {"@type": "Rating", "ratingValue": r.rating, "bestRating": BEST, "worstRating": WORST},
        "author": {"@type": "Person", "name": r.author},
        "datePublished": r.published_at.date().isoformat(),
    }
    if r.title:
        ld["name"] = r.title
    if r.text:
        ld["reviewBody"] = r.text
    if r.incentivised:
        ld["sponsor"] = {"@type": "Organization", "name": seller}
    return ld


def product_document(
    product_id: str, product_name: str | None, reviews: Sequence[PublishedReview], *, seller: str = "the seller"
) -> dict[str, Any]:
    """One product's published reviews and their schema.org JSON-LD (see the module).

    >>> from datetime import UTC
    >>> r = PublishedReview("rev_1", "P1", 4, "Good", "Works.", "Ana R.", datetime(2026, 2, 1, tzinfo=UTC), True)
    >>> doc = product_document("P1", "Grinder", [r], seller="Shop")
    >>> doc["rating"], doc["reviews"][0]["disclosure"] == DISCLOSURE, doc["json_ld"]["aggregateRating"]["ratingValue"]
    (4.0, True, 4.0)
    """
    ordered = sorted(reviews, key=lambda r: (r.published_at, r.review_id), reverse=True)
    count = len(ordered)
    mean = round(sum(r.rating for r in ordered) / count, 2) if count else None
    json_ld: dict[str, Any] = {"@context": "https://schema.org", "@type": "Product", "name": product_name or product_id}
    json_ld["sku"] = product_id
    if count:
        json_ld["aggregateRating"] = {
            "@type": "AggregateRating",
            "ratingValue": mean,
            "reviewCount": count,
            "ratingCount": count,
            "bestRating": BEST,
            "worstRating": WORST,
        }
        json_ld["review"] = [_review_ld(r, seller) for r in ordered]
    items = [
        {
            "review_id": r.review_id,
            "rating": r.rating,
            "title": r.title,
            "text": r.text,
            "author": r.author,
            "published_at": r.published_at.isoformat(),
            "incentivised": r.incentivised,
            **({"disclosure": DISCLOSURE} if r.incentivised else {}),
        }
        for r in ordered
    ]
    return {
        "product_id": product_id,
        "name": product_name,
        "review_count": count,
        "rating": mean,
        "incentivised_count": sum(r.incentivised for r in ordered),
        "reviews": items,
        "json_ld": json_ld,
    }
