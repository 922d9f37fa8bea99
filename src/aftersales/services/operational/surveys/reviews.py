"""Product reviews: list, moderate, and export the published ones for a shop's pages.

Reviews arrive from review surveys' pages (``responses.py``) as ``pending``. A moderator publishes,
rejects or returns one to pending (``core/surveys/reviews.py``), optionally with a private note and
by setting or clearing the ``incentivised`` flag; publishing stamps ``published_at`` and writes a
``review.published`` event. The export (:func:`export`) holds, per product, its published reviews
with the incentive disclosure and the schema.org ``Product`` / ``AggregateRating`` / ``Review``
JSON-LD for the product page; the author is shown by first name and initial.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from aftersales.core.errors import NotFoundError, ValidationError
from aftersales.core.events import REVIEW_PUBLISHED
from aftersales.core.surveys.reviews import REVIEW_STATUSES, PublishedReview, author_name, moderated, product_document
from aftersales.services.operational.cursors import decode_cursor, encode_cursor
from aftersales.services.ports import UnitOfWorkFactory
from aftersales.services.ports_surveys import ReviewRecord

__all__ = ["ReviewPage", "export", "list_reviews", "moderate"]

MAX_PAGE = 500


@dataclass(frozen=True)
class ReviewPage:
    """One page of reviews (ordered by id) and the cursor of the next, if any."""

    items: list[ReviewRecord]
    next_cursor: str | None


def list_reviews(
    uow: UnitOfWorkFactory,
    *,
    status: str | None = None,
    product_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> ReviewPage:
    """Reviews, optionally of one status and product, ``limit`` at a time."""
    if status is not None and status not in REVIEW_STATUSES:
        raise ValidationError(f"status: {status!r} is not one of: {', '.join(REVIEW_STATUSES)}")
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit: choose between 1 and {MAX_PAGE}")
    after = str(decode_cursor(cursor, (str,))[0]) if cursor else None
    with uow() as u:
        found = u.surveys.list_reviews(
            statuses=[status] if status else None, product_id=product_id, after=after, limit=limit + 1
        )
    more = len(found) > limit
    items = found[:limit]
    return ReviewPage(items, encode_cursor((items[-1].review_id,)) if more else None)


def moderate(
    uow: UnitOfWorkFactory,
    review_id: str,
    action: str,
    *,
    now: datetime,
    note: str | None = None,
    incentivised: bool | None = None,
) -> ReviewRecord:
    """Publish, reject or return ``review_id`` to pending (see the module)."""
    with uow() as u:
        review = u.surveys.get_review(review_id, for_update=True)
        if review is None:
            raise NotFoundError(f"no review {review_id!r}")
        status = moderated(review.status, action)
        published = status == "published"
        changed = replace(
            review,
            status=status,
            moderated_at=now,
            moderation_note=note if note is not None else review.moderation_note,
            incentivised=review.incentivised if incentivised is None else incentivised,
            published_at=now if published else None,
        )
        u.surveys.save_review(changed)
        if published:
            data = {"review_id": review_id, "product_id": review.product_id, "rating": review.rating}
            props = json.dumps(data, sort_keys=True, separators=(",", ":"))
            key = f"review:{review_id}:published:{now.isoformat()}"
            u.events.insert_new([(key, review.customer_id, None, REVIEW_PUBLISHED, now, props)])
        return changed


def export(
    uow: UnitOfWorkFactory, *, product_ids: list[str] | None = None, seller: str = "the seller"
) -> list[dict[str, Any]]:
    """One document per product (those given, else every product with a published review), ordered by
    product id: its published reviews with disclosures and its schema.org JSON-LD."""
    with uow() as u:
        published: list[ReviewRecord] = []
        after: str | None = None
        while True:
            batch = u.surveys.list_reviews(statuses=["published"], after=after, limit=5_000)
            published += [r for r in batch if product_ids is None or r.product_id in product_ids]
            if len(batch) < 5_000:
                break
            after = batch[-1].review_id
        wanted = sorted(set(product_ids) if product_ids is not None else {r.product_id for r in published})
        names = u.surveys.product_names(wanted)
        authors = u.surveys.customer_names(sorted({r.customer_id for r in published}))
    by_product: dict[str, list[PublishedReview]] = {p: [] for p in wanted}
    for r in published:
        assert r.published_at is not None
        by_product[r.product_id].append(
            PublishedReview(
                r.review_id, r.product_id, r.rating, r.title, r.body, author_name(authors.get(r.customer_id)),
                r.published_at, r.incentivised,
            )
        )  # fmt: skip
    return [product_document(p, names.get(p), by_product[p], seller=seller) for p in wanted]
