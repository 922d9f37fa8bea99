"""Composition root: the one place that reads Settings and picks adapters."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from aftersales.config import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from aftersales.adapters.sql.migrate import MigrationResult
    from aftersales.services.importing import ImportResult

__all__ = ["database_url", "import_file", "init_store", "settings", "store_engine"]


def settings() -> Settings:
    return get_settings()


def database_url(db: str | None = None) -> str:
    """The store URL: ``--db`` when given (a bare path means a SQLite file), else the settings'."""
    if not db:
        return get_settings().database_url
    if "://" in db:
        return db
    return f"sqlite:///{Path(db).expanduser()}"


# -- store --------------------------------------------------------------------------------------


def store_engine(db: str | None = None) -> Engine:
    """The store's SQLAlchemy engine (``--db`` or the settings' URL)."""
    from aftersales.adapters.sql.engine import make_engine

    return make_engine(database_url(db))


def init_store(db: str | None = None) -> MigrationResult:
    """Create or upgrade the store to the newest migration."""
    from aftersales.adapters.sql.migrate import upgrade

    return upgrade(store_engine(db))


def import_file(
    table: str,
    path: str,
    *,
    db: str | None = None,
    fmt: str | None = None,
    mapping: Mapping[str, str] | None = None,
    create_missing_customers: bool = False,
    batch_size: int | None = None,
    on_batch: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """Import a file into the store (upgrading the store first); bad rows go to ``PATH.rejected.csv``."""
    from aftersales.adapters.sources.formats import open_source_file
    from aftersales.adapters.sources.rejects import CsvRejectSink
    from aftersales.adapters.sql.migrate import upgrade
    from aftersales.adapters.sql.writer import SqlImportStore
    from aftersales.services.importing import run_import

    conf = get_settings()
    source = open_source_file(
        table,
        path,
        fmt=fmt,
        mapping=mapping,
        batch_size=batch_size or conf.import_batch_size,
        reporting_timezone=conf.reporting_timezone,
    )
    engine = store_engine(db)
    try:
        upgrade(engine)
        result = run_import(
            table,
            source.batches,
            SqlImportStore(engine),
            CsvRejectSink(f"{path}.rejected.csv"),
            create_missing_customers=create_missing_customers or (fmt or "").lower() == "cdnow",
            on_batch=on_batch,
        )
    finally:
        engine.dispose()
    result.ignored_columns = source.ignored_columns
    return result
