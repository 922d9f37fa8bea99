"""The hand-made store (``handmade.py``) on SQLite, PostgreSQL and as Parquet files."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pyarrow.parquet as pq
import pytest
from sqlalchemy import insert

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.tables import TABLES


def _handmade() -> ModuleType:
    # The suite imports in importlib mode: load the shared data module by path, once.
    name = "aftersales_tests_profiles_handmade"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("handmade.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def handmade() -> ModuleType:
    return _handmade()


@pytest.fixture
def handmade_store(store_url: str, handmade: ModuleType) -> str:
    """An initialised store (SQLite file, PostgreSQL) holding the hand-made rows."""
    engine = make_engine(store_url)
    with engine.begin() as conn:
        for name in handmade.ROWS:
            conn.execute(insert(TABLES[name]), handmade.store_rows(name))
    engine.dispose()
    return store_url


@pytest.fixture(scope="session")
def handmade_parquet(tmp_path_factory: pytest.TempPathFactory, handmade: ModuleType) -> Path:
    """The hand-made store as ``<table>.parquet`` files."""
    out = tmp_path_factory.mktemp("handmade")
    for name, table in handmade.arrow_tables().items():
        pq.write_table(table, out / f"{name}.parquet")
    return out
