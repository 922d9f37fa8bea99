"""The store side of surveys and reviews (issue 16): records and the repository protocol.

Implemented by ``adapters/sql/repositories/surveys.py`` (tables in ``adapters/sql/survey_tables.py``);
reached as ``UnitOfWork.surveys``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

__all__ = ["OpenedLink", "ReviewRecord", "SendRecord", "SurveyRecord", "SurveyRepository"]


@dataclass(frozen=True)
class SurveyRecord:
    """One survey's current definition (``definition_json``: the canonical document)."""

    survey_id: str
    name: str
    kind: str
    version: int
    definition_json: str
    status: str  # active | archived
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SendRecord:
    """One invitation and where its answer stands."""

    send_id: str
    survey_id: str
    version: int
    customer_id: str
    order_id: str | None
    product_id: str | None
    channel: str
    sent_at: datetime
    expires_at: datetime
    status: str  # sent | partial | answered
    first_answered_at: datetime | None = None
    answered_at: datetime | None = None
    updated_at: datetime | None = None
    response_id: str | None = None


@dataclass(frozen=True)
class OpenedLink:
    """What a survey page needs about one send, read at once: the send, its survey's status, the
    definition of the send's version, and the customer's locale."""

    send: SendRecord
    survey_status: str
    definition_json: str
    customer_locale: str | None


@dataclass(frozen=True)
class ReviewRecord:
    """One product review."""

    review_id: str
    send_id: str
    survey_id: str
    customer_id: str
    product_id: str
    order_id: str | None
    rating: int
    title: str | None
    body: str | None
    locale: str | None
    status: str  # pending | published | rejected
    incentivised: bool
    created_at: datetime
    updated_at: datetime
    moderated_at: datetime | None = None
    moderation_note: str | None = None
    published_at: datetime | None = None


class SurveyRepository(Protocol):
    # -- definitions ------------------------------------------------------------------------------
    def add_survey(self, survey: SurveyRecord) -> None:
        """Store a new survey and its first version; ``ConflictError`` when the name is taken."""
        ...

    def update_survey(self, survey: SurveyRecord) -> None:
        """Store ``survey``'s current definition and status (and its version row, once)."""
        ...

    def get_survey(self, survey_id: str) -> SurveyRecord | None: ...

    def survey_by_name(self, name: str) -> SurveyRecord | None: ...

    def list_surveys(self, statuses: Sequence[str] | None = None) -> list[SurveyRecord]:
        """Surveys by name."""
        ...

    def version(self, survey_id: str, version: int) -> str | None:
        """The definition (canonical JSON) of one version, or None."""
        ...

    # -- sends ------------------------------------------------------------------------------------
    def add_send(self, send: SendRecord) -> bool:
        """Store a send unless one with its id exists (idempotent); whether it was written."""
        ...

    def get_send(self, send_id: str, *, for_update: bool = False) -> SendRecord | None:
        """One send; ``for_update`` locks its row until the transaction ends (PostgreSQL; SQLite
        serialises writers anyway)."""
        ...

    def open_link(self, send_id: str, *, for_update: bool = False) -> OpenedLink | None:
        """The send with its survey's status, its version's definition and the customer's locale (one
        read); ``for_update`` locks the send's row (PostgreSQL)."""
        ...

    def update_send(self, send_id: str, changes: Mapping[str, Any]) -> None: ...

    def sends_since(self, customer_id: str, since: datetime) -> list[tuple[str, datetime]]:
        """(survey_id, sent_at) of the customer's sends at or after ``since`` (the throttle's input)."""
        ...

    def send_counts(self) -> list[tuple[str, str, int]]:
        """(survey_id, status, sends) for every survey and status present."""
        ...

    # -- answers ----------------------------------------------------------------------------------
    def response_rows(self, response_id: str) -> list[dict[str, Any]]:
        """The ``survey_responses`` rows of one response (one per dimension)."""
        ...

    def replace_response(self, response_id: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Make ``rows`` the response's rows (deleting the ones no longer answered)."""
        ...

    # -- reviews ----------------------------------------------------------------------------------
    def review_of_send(self, send_id: str) -> ReviewRecord | None: ...

    def get_review(self, review_id: str, *, for_update: bool = False) -> ReviewRecord | None: ...

    def save_review(self, review: ReviewRecord) -> None:
        """Insert or replace the review with this id."""
        ...

    def list_reviews(
        self,
        *,
        statuses: Sequence[str] | None = None,
        product_id: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[ReviewRecord]:
        """Reviews ordered by id, strictly after ``after``."""
        ...

    def customer_names(self, customer_ids: Sequence[str]) -> dict[str, str | None]:
        """``customers.name`` of each customer (for the shown author name)."""
        ...

    def product_names(self, product_ids: Sequence[str]) -> dict[str, str | None]:
        """``products.name`` of each product."""
        ...
