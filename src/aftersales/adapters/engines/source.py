"""A :class:`Source`: the contract tables of one data source as Ibis tables on one engine.

Every table comes back in the contract's analytical types (money float64, time stamps
``timestamp('UTC')``), with the contract's column names; optional columns a source lacks are
NULL columns of the right type, so metric definitions never special-case a source. A source may
also hold tables outside the contract (experiment outcomes), served as they are.

``Source`` implements the services' one analytical port (``services.ports.AnalyticalSource``):
services build expressions, the source runs them (``execute``, ``to_arrow``, ``cache``) and takes
small Arrow results back into the engine (``register``) to be joined there.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from types import TracebackType
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend
from ibis.expr.types.relations import CachedTable

from aftersales.core import contract
from aftersales.core.errors import MissingColumnError, MissingTableError

__all__ = ["Source", "conform"]

_IBIS_TYPES = {
    "string": "string",
    "json": "string",
    "int": "int64",
    "bool": "boolean",
    "money": "float64",
    "timestamp": "timestamp('UTC')",
    "date": "date",
}


def conform(raw: ir.Table, name: str) -> ir.Table:
    """``raw`` in the contract shape of table ``name`` (casts, NULL optional columns, contract order)."""
    t = contract.get_table(name)
    cols = {}
    for c in t.columns:
        target = ibis.dtype(_IBIS_TYPES[c.type])
        if c.name in raw.columns:
            col = raw[c.name]
            cols[c.name] = col if col.type() == target else col.cast(target)
        elif c.name in t.required_columns:
            raise MissingColumnError(f"table {name!r} has no column {c.name!r}")
        else:
            cols[c.name] = ibis.null(target)
    return raw.select(**cols)


class Source:
    """Contract tables on one Ibis backend. Use as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        backend: BaseBackend,
        engine: str,
        tables: dict[str, Callable[[], ir.Table]],
        description: str,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.backend = backend
        self.engine = engine
        self.description = description
        self._loaders = tables
        self._cache: dict[str, ir.Table] = {}
        self._cached: list[CachedTable] = []
        self._on_close = on_close

    def restrict(self, tables: Collection[str]) -> Source:
        """Keep only ``tables`` (e.g. the files a caller named, out of a folder holding more)."""
        self._loaders = {k: v for k, v in self._loaders.items() if k in tables}
        return self

    def has_table(self, name: str) -> bool:
        return name in self._loaders

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(n for n in contract.TABLES if n in self._loaders)

    def table(self, name: str) -> ir.Table:
        """Table ``name``: a contract table in the contract's shape, or a table outside the contract
        that the source was opened with, as it is. Raises :class:`MissingTableError` naming it when
        the source lacks it, ``ContractError`` for a name that is neither."""
        outside = name in self._loaders and name not in contract.TABLES
        if not outside:
            contract.get_table(name)
        if name not in self._loaders:
            raise MissingTableError(f"{self.description} has no table {name!r}")
        if name not in self._cache:
            raw = self._loaders[name]()
            self._cache[name] = raw if outside else conform(raw, name)
        return self._cache[name]

    def execute(self, expr: ir.Table) -> list[dict[str, Any]]:
        """Run ``expr`` on this source's backend; rows as dicts."""
        rows: list[dict[str, Any]] = self.to_arrow(expr).to_pylist()
        return rows

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        """Run ``expr`` on this source's backend; the result as an Arrow table."""
        table: pa.Table = self.backend.to_pyarrow(expr)
        return table

    def register(self, name: str, data: pa.Table) -> ir.Table:
        """``data`` as a table that expressions on this backend can join. DuckDB scans the Arrow data in
        place under ``name`` (no copy; use a name unique to the caller's run); other engines get an Ibis
        in-memory table, created when an expression first reads it (a temporary table on PostgreSQL,
        a DataFrame on Spark)."""
        if self.engine in ("duckdb", "sqlite"):  # both run on DuckDB
            self.backend.con.register(name, data)
            return self.backend.table(name)
        return ibis.memtable(data)

    def cache(self, expr: ir.Table) -> CachedTable:
        """``expr`` computed once and kept on this backend (a temporary table; a cached DataFrame on Spark).

        For intermediate results several metrics read: later expressions over the returned table
        do not recompute it. ``release()`` drops it; so does closing the source.
        """
        if self.engine == "spark":
            # Ibis 12's PySpark cache() runs the SQL without first registering the expression's
            # in-memory tables (memtables), which then are "not found": register them here.
            self.backend._run_pre_execute_hooks(expr)
        cached = expr.cache()
        self._cached.append(cached)
        return cached

    def close(self) -> None:
        """Drop what :meth:`cache` kept (releasing twice is a no-op), then disconnect. Ibis would
        otherwise drop a cached table when its expression is garbage-collected: after the disconnect."""
        try:
            for cached in self._cached:
                cached.release()
        finally:
            self._cached.clear()
            if self._on_close is not None:
                self._on_close()
                self._on_close = None
            self.backend.disconnect()

    def __enter__(self) -> Source:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
