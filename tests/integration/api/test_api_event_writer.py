"""The batch event writer on SQLite and PostgreSQL, below the HTTP layer: once-only ids, and the
PostgreSQL staging table surviving a rolled-back transaction on the same connection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.migrate import upgrade
from aftersales.adapters.sql.repositories import unit_of_work_factory

T = datetime(2024, 3, 1, 10, tzinfo=timezone(timedelta(hours=1)))


@pytest.fixture(scope="module")
def engine(store_url: str):
    kwargs = {} if store_url.startswith("sqlite") else {"pool_size": 1, "max_overflow": 0}
    eng = make_engine(store_url, **kwargs)  # one connection: every unit of work reuses it
    upgrade(eng)
    yield eng
    eng.dispose()


def _rows(prefix: str, n: int) -> list[tuple]:
    return [(f"{prefix}-{i}", "c1", None, "n", T, f'{{"i":{i}}}') for i in range(n)]


def test_a_rolled_back_batch_leaves_nothing_and_the_next_batch_is_written(engine) -> None:
    uow = unit_of_work_factory(engine)
    with pytest.raises(RuntimeError), uow() as u:
        assert u.events.insert_new(_rows("rb", 5)) == 5  # first batch of this connection: creates the stage
        raise RuntimeError("the transaction rolls back, and with it the staging table's creation")
    with uow() as u:
        assert u.events.insert_new(_rows("rb", 7)) == 7
    with uow() as u:
        assert u.events.insert_new(_rows("rb", 9)) == 2  # the stage starts empty in every transaction
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM events WHERE event_id LIKE 'rb-%'")).scalar() == 9


def test_two_writes_in_one_transaction_count_only_new_rows(engine) -> None:
    uow = unit_of_work_factory(engine)
    with uow() as u:
        assert u.events.insert_new(_rows("tw", 3)) == 3
        assert u.events.insert_new(_rows("tw", 4)) == 1
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT occurred_at FROM events WHERE event_id = 'tw-0'")).scalar()
    expected = "2024-03-01 09:00:00.000000" if engine.dialect.name == "sqlite" else T.astimezone(UTC)
    assert stored == expected
