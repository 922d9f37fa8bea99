"""Store upkeep after bulk writes: fresh planner statistics on PostgreSQL.

PostgreSQL plans from statistics, and a table filled by a bulk import has none until ``ANALYZE``
runs (autovacuum may be off, or minutes late). Without them the planner guesses a handful of rows
and picks nested loops: ``metrics average_order_value`` on 191k orders took 153-166 s, and 9.4 s
after a manual ``ANALYZE`` (issue 11). So the import path analyses the tables it wrote, and the
score refresh the tables it reads, before any query plans over them.

SQLite needs nothing: metrics never run inside it (its tables are scanned into DuckDB), and its
own planner's statistics (``sqlite_stat1``) matter only for indexed lookups, which stay fast.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, text

from aftersales.adapters.sql.tables import TABLES

__all__ = ["analyze"]


def analyze(engine: Engine, tables: Iterable[str]) -> list[str]:
    """Refresh PostgreSQL's planner statistics of the store's ``tables`` (a no-op on other databases).

    Returns the tables analysed. Only tables of the store's schema are named (never a caller's
    free text in SQL); unknown names are ignored. ``ANALYZE`` samples 30,000 rows per table at
    the default statistics target, so it costs well under a second even on millions of rows.
    """
    if engine.dialect.name != "postgresql":
        return []
    names = [t for t in dict.fromkeys(tables) if t in TABLES]
    if not names:
        return []
    quote = engine.dialect.identifier_preparer.quote
    with engine.begin() as conn:
        conn.execute(text("ANALYZE " + ", ".join(quote(TABLES[n].name) for n in names)))
    return names
