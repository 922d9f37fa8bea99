"""One transaction per unit of work: repositories share its connection; commit on success."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from sqlalchemy import Connection, Engine

from aftersales.adapters.sql.repositories.events import SqlEventRepository, track_staging
from aftersales.adapters.sql.repositories.keys import SqlApiKeyRepository, SqlIdempotencyRepository
from aftersales.adapters.sql.repositories.profiles import SqlProfileRepository
from aftersales.adapters.sql.repositories.rows import SqlResourceRepository
from aftersales.adapters.sql.repositories.scores import SqlScoreRepository
from aftersales.adapters.sql.repositories.segments import (
    SqlSegmentMembershipRepository,
    SqlSegmentRepository,
    SqlSegmentSizeRepository,
)
from aftersales.adapters.sql.repositories.webhooks import SqlWebhookRepository

__all__ = ["SqlUnitOfWork", "unit_of_work_factory"]


class SqlUnitOfWork:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __enter__(self) -> SqlUnitOfWork:
        self._tx = self._engine.begin()
        conn: Connection = self._tx.__enter__()
        self.api_keys = SqlApiKeyRepository(conn)
        self.idempotency = SqlIdempotencyRepository(conn)
        self.events = SqlEventRepository(conn)
        self.resources = SqlResourceRepository(conn)
        self.webhooks = SqlWebhookRepository(conn)
        self.scores = SqlScoreRepository(conn)
        self.segments = SqlSegmentRepository(conn)
        self.memberships = SqlSegmentMembershipRepository(conn)
        self.segment_sizes = SqlSegmentSizeRepository(conn)
        self.profiles = SqlProfileRepository(conn)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._tx.__exit__(exc_type, exc, tb)


def unit_of_work_factory(engine: Engine) -> Callable[[], SqlUnitOfWork]:
    track_staging(engine)
    return lambda: SqlUnitOfWork(engine)
