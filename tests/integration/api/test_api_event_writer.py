"""The batch event writer on SQLite and PostgreSQL, below the HTTP layer: once-only ids, and the
PostgreSQL staging table surviving a rolled-back transaction on the same connection."""

from __future__ import annotations

import threading
import time
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


def test_a_batch_with_stored_ids_writes_only_the_new_ones_and_the_connection_stays_usable(engine) -> None:
    uow = unit_of_work_factory(engine)
    with uow() as u:
        assert u.events.insert_new(_rows("mx", 4)) == 4
    with uow() as u:  # ids 0-3 stored: on PostgreSQL the direct COPY fails and the batch is staged
        assert u.events.insert_new(_rows("mx", 10)) == 6
        assert u.events.insert_new(_rows("my", 3)) == 3  # the next batch in the same transaction
    with uow() as u:
        assert u.events.insert_new(_rows("mz", 2)) == 2
    with engine.connect() as conn:
        counts = conn.execute(
            text("SELECT substr(event_id, 1, 2), count(*) FROM events WHERE event_id ~ '^m[xyz]-' GROUP BY 1")
            if engine.dialect.name == "postgresql"
            else text("SELECT substr(event_id, 1, 2), count(*) FROM events WHERE event_id GLOB 'm[xyz]-*' GROUP BY 1")
        ).all()
    assert dict(counts) == {"mx": 10, "my": 3, "mz": 2}


@pytest.mark.postgres
def test_a_concurrent_writer_of_the_same_ids_is_waited_for_then_skipped(fresh_postgres_database, worker_id) -> None:
    """Transaction A holds uncommitted ids; B's COPY of an overlapping batch waits for A, then takes
    the careful path and writes only the ids A did not: each id is stored once, neither fails."""
    eng = make_engine(fresh_postgres_database(f"aftersales_event_race_{worker_id}"))
    upgrade(eng)
    uow = unit_of_work_factory(eng)
    try:
        a = uow()
        ua = a.__enter__()
        assert ua.events.insert_new(_rows("cc", 5)) == 5
        result: dict[str, int] = {}
        b = threading.Thread(target=lambda: result.update(b=_write(uow, _rows("cc", 8))))
        b.start()
        time.sleep(0.5)
        assert b.is_alive()  # B waits on A's uncommitted keys
        a.__exit__(None, None, None)  # A commits
        b.join(10)
        assert result == {"b": 3}
        with eng.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM events WHERE event_id LIKE 'cc-%'")).scalar()
        assert stored == 8
    finally:
        eng.dispose()


def _write(uow, rows: list[tuple]) -> int:
    with uow() as u:
        return u.events.insert_new(rows)
