from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.tables import TABLES

CUSTOMERS = [
    {"customer_id": "c1", "email": "a@example.com", "country": "NO", "created_at": "2024-01-01T10:00:00+01:00"},
    {"customer_id": "c2", "email": "b@example.com", "country": "SE", "created_at": "2024-01-02T10:00:00Z"},
    {"customer_id": "c3", "email": "c@example.com", "country": "DK", "created_at": "2024-01-03T10:00:00Z"},
]


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[[str, list[dict[str, str]]], Path]:
    def write(name: str, rows: list[dict[str, str]], fieldnames: list[str] | None = None) -> Path:
        path = tmp_path / name
        names = fieldnames or list(dict.fromkeys(k for r in rows for k in r))
        with path.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=names)
            w.writeheader()
            w.writerows(rows)
        return path

    return write


class Probe:
    """Reads the store back for assertions."""

    def __init__(self, url: str) -> None:
        self.url = url

    def count(self, table: str) -> int:
        return count(self.url, table)

    def rows(self, table: str) -> list[dict]:
        return rows(self.url, table)

    @staticmethod
    def rejects(path: Path) -> list[dict[str, str]]:
        return read_rejects(path)


@pytest.fixture
def probe(store_url: str) -> Probe:
    return Probe(store_url)


@pytest.fixture
def customers() -> list[dict[str, str]]:
    return [dict(c) for c in CUSTOMERS]


def count(url: str, table: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(TABLES[table])).scalar_one()
    finally:
        engine.dispose()


def rows(url: str, table: str) -> list[dict]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            t = TABLES[table]
            return [dict(r._mapping) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
    finally:
        engine.dispose()


def read_rejects(path: Path) -> list[dict[str, str]]:
    with open(f"{path}.rejected.csv", newline="") as f:
        return list(csv.DictReader(f))
