"""Ibis connections for the analytical plane: one :class:`Source` API on DuckDB, SQLite, PostgreSQL, Spark."""

from aftersales.adapters.engines.opening import ENGINES, open_dataframes, open_source, open_tables, spark_session
from aftersales.adapters.engines.source import Source, conform

__all__ = ["ENGINES", "Source", "conform", "open_dataframes", "open_source", "open_tables", "spark_session"]
