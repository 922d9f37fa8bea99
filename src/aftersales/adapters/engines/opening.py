"""Open a source on an engine: files and dataframes on DuckDB, SQLite scanned into DuckDB,
PostgreSQL in place through Ibis, files on Spark (a local[2] session unless one is given).

DESIGN.md ("Engine facts"): never compute inside SQLite (Ibis miscomputes argmin/argmax there and
lacks quantiles); its plain reads are exact, so the tables are read into Arrow and computed in
DuckDB. ``engine="sqlite"`` means exactly that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from aftersales.adapters.engines import fast_duckdb
from aftersales.adapters.engines.source import Source
from aftersales.core import contract
from aftersales.core.errors import UnusableInputError

__all__ = ["ENGINES", "open_dataframes", "open_source", "open_tables"]

ENGINES = ("duckdb", "sqlite", "postgres", "spark")
PROFILES = "customer_profiles"  # a store table outside the contract that store sources serve too (issue 14)


def _files(path: Path) -> dict[str, Path]:
    """``{table: file}`` for ``<table>.parquet|.csv`` files in a directory, or one file named after a table."""
    candidates = sorted(path.iterdir()) if path.is_dir() else [path]
    out: dict[str, Path] = {}
    for f in candidates:
        stem, suffix = f.name.split(".", 1)[0], "".join(f.suffixes).lower()
        if stem in contract.TABLES and suffix in (".parquet", ".csv", ".csv.gz") and stem not in out:
            out[stem] = f
    if not out:
        kind = "directory" if path.is_dir() else "file"
        raise UnusableInputError(
            f"{kind} {path} holds no contract table: expected files named <table>.parquet or <table>.csv "
            f"(tables: {', '.join(contract.TABLES)})"
        )
    return out


def _duckdb_files(files: dict[str, Path], description: str) -> Source:
    con = fast_duckdb.connect()

    def loader(name: str, f: Path) -> Callable[[], ir.Table]:
        def load() -> ir.Table:
            if f.suffix == ".parquet":
                return con.read_parquet(str(f), table_name=f"src_{name}")
            return con.read_csv(str(f), table_name=f"src_{name}", all_varchar=True)

        return load

    return Source(con, "duckdb", {n: loader(n, f) for n, f in files.items()}, description)


def _arrow_on_duckdb(tables: Mapping[str, Callable[[], pa.Table]], engine: str, description: str) -> Source:
    con = fast_duckdb.connect()

    def loader(name: str, read: Callable[[], pa.Table]) -> Callable[[], ir.Table]:
        def load() -> ir.Table:
            con.con.register(f"src_{name}", read())
            return con.table(f"src_{name}")

        return load

    return Source(con, engine, {n: loader(n, r) for n, r in tables.items()}, description)


def _sqlite(url: str) -> Source:
    from aftersales.adapters.sql.arrow_io import read_table, table_exists
    from aftersales.adapters.sql.engine import make_engine

    engine = make_engine(url)
    present = {n for n in contract.TABLES if table_exists(engine, n)}
    readers: dict[str, Callable[[], pa.Table]] = {n: partial(read_table, engine, n) for n in present}
    if table_exists(engine, PROFILES):  # the profiles of `aftersales refresh`, lists as list<string>
        from aftersales.adapters.sql.repositories.profiles import read_profiles

        readers[PROFILES] = lambda: read_profiles(engine)
    src = _arrow_on_duckdb(readers, "sqlite", f"SQLite store {url}")
    src._on_close = engine.dispose
    return src


def _postgres_table(con: Any, name: str, schema: str | None) -> Callable[[], ir.Table]:
    return lambda: con.table(name, database=schema) if schema else con.table(name)


def _postgres(url: str, schema: str | None) -> Source:
    u = urlsplit(url)
    con = ibis.postgres.connect(
        host=u.hostname or "localhost",
        port=u.port or 5432,
        user=u.username,
        password=u.password,
        database=(u.path or "/").lstrip("/") or None,
        schema=schema,
    )
    present = set(con.list_tables(database=schema) if schema else con.list_tables())
    tables = {n: _postgres_table(con, n, schema) for n in (*contract.TABLES, PROFILES) if n in present}
    return Source(con, "postgres", tables, f"PostgreSQL store {u.hostname}/{u.path.lstrip('/')}")


def spark_session() -> Any:
    """A local[2] SparkSession in UTC with a small shuffle (the scale-out path, tested in local mode)."""
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[2]")
        .appName("aftersales")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "3g")
        .getOrCreate()
    )


def _spark(files: dict[str, Path], description: str, session: Any = None) -> Source:
    spark = session or spark_session()
    con = ibis.pyspark.connect(spark)

    def loader(name: str, f: Path) -> Callable[[], ir.Table]:
        def load() -> ir.Table:
            if f.suffix == ".parquet":
                df = spark.read.parquet(str(f))
            else:
                df = spark.read.option("header", "true").csv(str(f))
            df.createOrReplaceTempView(f"src_{name}")
            return con.table(f"src_{name}")

        return load

    return Source(con, "spark", {n: loader(n, f) for n, f in files.items()}, description)


def open_source(source: str, engine: str | None = None, *, schema: str | None = None, spark: Any = None) -> Source:
    """Open ``source`` — a DB URL, a directory of ``<table>.parquet|.csv`` files, or one such file.

    ``engine`` defaults from the source: files → duckdb, ``sqlite://`` → sqlite (scanned into
    DuckDB), ``postgresql://`` → postgres. Files may also run on ``spark``. ``schema`` picks a
    PostgreSQL schema; ``spark`` an existing SparkSession.
    """
    if engine is not None and engine not in ENGINES:
        raise UnusableInputError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    scheme = source.split("://", 1)[0].split("+", 1)[0].lower() if "://" in source else ""
    if scheme == "sqlite":
        if engine not in (None, "sqlite", "duckdb"):
            raise UnusableInputError(f"a SQLite store runs on the sqlite (DuckDB) engine, not {engine!r}")
        return _sqlite(source)
    if scheme in ("postgresql", "postgres"):
        if engine not in (None, "postgres"):
            raise UnusableInputError(f"a PostgreSQL store runs on the postgres engine, not {engine!r}")
        return _postgres(source, schema)
    if scheme:
        raise UnusableInputError(
            f"unsupported source URL scheme {scheme!r}: use a directory, a file, sqlite:// or postgresql://"
        )
    path = Path(source).expanduser()
    if not path.exists():
        raise UnusableInputError(f"source {source} does not exist")
    if path.is_file() and path.suffix.lower() in (".db", ".sqlite", ".sqlite3"):
        return open_source(f"sqlite:///{path}", engine)
    files = _files(path)
    if engine in (None, "duckdb"):
        return _duckdb_files(files, f"source {source}")
    if engine == "spark":
        return _spark(files, f"source {source}", spark)
    raise UnusableInputError(f"files run on duckdb or spark, not {engine!r}")


def _arrow(obj: Any) -> pa.Table:
    """A pandas or polars dataframe, or an Arrow table, as an Arrow table."""
    if isinstance(obj, pa.Table):
        return obj
    if hasattr(obj, "to_arrow"):  # polars
        return obj.to_arrow()
    return pa.Table.from_pandas(obj, preserve_index=False)


def _reader(frame: Any) -> Callable[[], pa.Table]:
    return lambda: _arrow(frame)


def open_dataframes(frames: Mapping[str, Any]) -> Source:
    """pandas / polars dataframes or Arrow tables, keyed by contract table name, on DuckDB."""

    for name in frames:
        contract.get_table(name)
    readers = {n: _reader(f) for n, f in frames.items()}
    return _arrow_on_duckdb(readers, "duckdb", "the dataframes given")


def open_tables(tables: Mapping[str, Any], description: str = "the tables given") -> Source:
    """Tables outside the data contract (e.g. per-customer experiment outcomes), served as they are.

    Ibis tables stay on their backend (all must share one); dataframes and Arrow tables go into an
    in-process DuckDB. Closing the source disconnects that backend.
    """
    exprs = {n: t for n, t in tables.items() if isinstance(t, ir.Table)}
    if exprs and len(exprs) < len(tables):
        raise UnusableInputError("give either Ibis tables or dataframes, not both")
    if not exprs:
        con = fast_duckdb.connect()
        for n, t in tables.items():
            con.con.register(f"src_{n}", _arrow(t))
        exprs = {n: con.table(f"src_{n}") for n in tables}
    backends = {id(ibis.get_backend(t)): ibis.get_backend(t) for t in exprs.values()}
    if len(backends) != 1:
        raise UnusableInputError("the tables given live on different engines: give tables of one connection")
    [backend] = backends.values()
    engine = {"pyspark": "spark"}.get(backend.name, backend.name)
    return Source(backend, engine, {n: _constant(t) for n, t in exprs.items()}, description)


def _constant(table: ir.Table) -> Callable[[], ir.Table]:
    return lambda: table
