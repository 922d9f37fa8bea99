"""One transaction per unit of work: repositories share its connection; commit on success.

Repositories are built on first use, and their modules imported then: a command that only touches API
keys (``aftersales keys create``) must not pay for the profile writer's Arrow and Ibis imports or the
event writer's psycopg import (docs/cli.md, start-up).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine

if TYPE_CHECKING:
    from aftersales.adapters.sql.repositories.enrollments import SqlEnrollmentRepository
    from aftersales.adapters.sql.repositories.events import SqlEventRepository
    from aftersales.adapters.sql.repositories.journeys import SqlJourneyRepository
    from aftersales.adapters.sql.repositories.keys import SqlApiKeyRepository, SqlIdempotencyRepository
    from aftersales.adapters.sql.repositories.loyalty import SqlLoyaltyRepository
    from aftersales.adapters.sql.repositories.messages import SqlMessageRepository
    from aftersales.adapters.sql.repositories.profiles import SqlProfileRepository
    from aftersales.adapters.sql.repositories.rows import SqlResourceRepository
    from aftersales.adapters.sql.repositories.scores import SqlScoreRepository
    from aftersales.adapters.sql.repositories.segments import (
        SqlSegmentMembershipRepository,
        SqlSegmentRepository,
        SqlSegmentSizeRepository,
    )
    from aftersales.adapters.sql.repositories.surveys import SqlSurveyRepository
    from aftersales.adapters.sql.repositories.webhooks import SqlWebhookRepository

__all__ = ["SqlUnitOfWork", "unit_of_work_factory"]

_REPOSITORIES = (
    "api_keys",
    "idempotency",
    "events",
    "resources",
    "webhooks",
    "scores",
    "segments",
    "memberships",
    "segment_sizes",
    "profiles",
    "journeys",
    "enrollments",
    "messages",
    "loyalty",
    "surveys",
)


class SqlUnitOfWork:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __enter__(self) -> SqlUnitOfWork:
        self._tx = self._engine.begin()
        self._conn: Connection = self._tx.__enter__()
        for name in _REPOSITORIES:  # a re-entered unit of work gets repositories on its new connection
            self.__dict__.pop(name, None)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._tx.__exit__(exc_type, exc, tb)

    @cached_property
    def api_keys(self) -> SqlApiKeyRepository:
        from aftersales.adapters.sql.repositories.keys import SqlApiKeyRepository

        return SqlApiKeyRepository(self._conn)

    @cached_property
    def idempotency(self) -> SqlIdempotencyRepository:
        from aftersales.adapters.sql.repositories.keys import SqlIdempotencyRepository

        return SqlIdempotencyRepository(self._conn)

    @cached_property
    def events(self) -> SqlEventRepository:
        from aftersales.adapters.sql.repositories.events import SqlEventRepository

        return SqlEventRepository(self._conn)

    @cached_property
    def resources(self) -> SqlResourceRepository:
        from aftersales.adapters.sql.repositories.rows import SqlResourceRepository

        return SqlResourceRepository(self._conn)

    @cached_property
    def webhooks(self) -> SqlWebhookRepository:
        from aftersales.adapters.sql.repositories.webhooks import SqlWebhookRepository

        return SqlWebhookRepository(self._conn)

    @cached_property
    def scores(self) -> SqlScoreRepository:
        from aftersales.adapters.sql.repositories.scores import SqlScoreRepository

        return SqlScoreRepository(self._conn)

    @cached_property
    def segments(self) -> SqlSegmentRepository:
        from aftersales.adapters.sql.repositories.segments import SqlSegmentRepository

        return SqlSegmentRepository(self._conn)

    @cached_property
    def memberships(self) -> SqlSegmentMembershipRepository:
        from aftersales.adapters.sql.repositories.segments import SqlSegmentMembershipRepository

        return SqlSegmentMembershipRepository(self._conn)

    @cached_property
    def segment_sizes(self) -> SqlSegmentSizeRepository:
        from aftersales.adapters.sql.repositories.segments import SqlSegmentSizeRepository

        return SqlSegmentSizeRepository(self._conn)

    @cached_property
    def profiles(self) -> SqlProfileRepository:
        from aftersales.adapters.sql.repositories.profiles import SqlProfileRepository

        return SqlProfileRepository(self._conn)

    @cached_property
    def journeys(self) -> SqlJourneyRepository:
        from aftersales.adapters.sql.repositories.journeys import SqlJourneyRepository

        return SqlJourneyRepository(self._conn)

    @cached_property
    def enrollments(self) -> SqlEnrollmentRepository:
        from aftersales.adapters.sql.repositories.enrollments import SqlEnrollmentRepository

        return SqlEnrollmentRepository(self._conn)

    @cached_property
    def messages(self) -> SqlMessageRepository:
        from aftersales.adapters.sql.repositories.messages import SqlMessageRepository

        return SqlMessageRepository(self._conn)

    @cached_property
    def loyalty(self) -> SqlLoyaltyRepository:
        from aftersales.adapters.sql.repositories.loyalty import SqlLoyaltyRepository

        return SqlLoyaltyRepository(self._conn)

    @cached_property
    def surveys(self) -> SqlSurveyRepository:
        from aftersales.adapters.sql.repositories.surveys import SqlSurveyRepository

        return SqlSurveyRepository(self._conn)


def unit_of_work_factory(engine: Engine) -> Callable[[], SqlUnitOfWork]:
    if engine.dialect.name == "postgresql":  # the staging table of the event writer exists there only
        from aftersales.adapters.sql.repositories.events import track_staging

        track_staging(engine)
    return lambda: SqlUnitOfWork(engine)
