"""Ibis DuckDB connections whose SQL avoids two slow translations (measured on 10M orders).

Ibis 12 compiles, for every DuckDB connection:

* ``ts.epoch_seconds()`` as ``EPOCH(CAST(ts AS TIMESTAMP))``. On a ``TIMESTAMPTZ`` column that
  cast goes through the ICU calendar per row: 1.3 CPU-seconds on 10M orders, against 0.27 s for
  ``EPOCH(ts)``. Both give the seconds since 1970-01-01 UTC while the session is in UTC, which
  Ibis sets on connect; ``EPOCH(ts)`` gives them in any session zone.
* ``arg.argmin(key)`` / ``argmax`` as the ordered aggregate ``FIRST(arg ORDER BY key)``, which
  sorts within every group; ``arg_min_null`` / ``arg_max_null`` return the same value (the ``arg``
  of the row with the least / greatest non-NULL key, NULL ``arg`` included) in one pass, 0.4
  CPU-seconds less on the RFM summary of 10M orders.

:func:`connect` returns an ordinary Ibis DuckDB backend with this compiler set on the instance
only, so other Ibis connections in the process are untouched.
"""

from __future__ import annotations

from typing import Any

import ibis
from ibis.backends.duckdb import Backend as DuckDBBackend
from ibis.backends.sql.compilers.duckdb import DuckDBCompiler

__all__ = ["FastDuckDBCompiler", "connect"]


class FastDuckDBCompiler(DuckDBCompiler):
    """Ibis's DuckDB compiler with one-pass ``argmin``/``argmax`` and cast-free ``epoch_seconds``."""

    def visit_ExtractEpochSeconds(self, op: Any, *, arg: Any) -> Any:  # noqa: N802 (Ibis's visitor names)
        if op.arg.dtype.is_timestamp() and op.arg.dtype.timezone is not None:
            return self.f.epoch(arg)
        return super().visit_ExtractEpochSeconds(op, arg=arg)

    def visit_ArgMin(self, op: Any, *, arg: Any, key: Any, where: Any) -> Any:  # noqa: N802 (Ibis's visitor names)
        return self.agg.arg_min_null(arg, key, where=where)

    def visit_ArgMax(self, op: Any, *, arg: Any, key: Any, where: Any) -> Any:  # noqa: N802 (Ibis's visitor names)
        return self.agg.arg_max_null(arg, key, where=where)


_COMPILER = FastDuckDBCompiler()


def connect(**kwargs: Any) -> DuckDBBackend:
    """``ibis.duckdb.connect(**kwargs)`` compiling with :class:`FastDuckDBCompiler`."""
    con = ibis.duckdb.connect(**kwargs)
    con.compiler = _COMPILER
    return con
