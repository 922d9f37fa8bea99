"""Bench-only bulk loader: the generator's files into a migrated store, fast enough for 1M customers.

``aftersales import`` validates every row, looks up existing keys and reports counts: right for users,
but a 1M-customer store (about 40M rows) takes far too long to build that way for a benchmark. The
generator's files already follow the contract, so this loader skips validation and writes each
contract table straight in: PostgreSQL by ``COPY ... FROM STDIN (FORMAT csv)`` from Arrow's CSV writer,
SQLite by ``executemany`` in large transactions (time stamps as the store's UTC text, booleans 0/1).
It then runs ANALYZE (PostgreSQL) as the importer does. Never used by the product.
"""

from __future__ import annotations

import io
import sqlite3
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy import text
from sqlalchemy.engine import make_url

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.migrate import upgrade
from aftersales.core import contract

BATCH = 200_000


def _ordered_tables(data: Path) -> list[tuple[str, Path]]:
    """Contract tables present in ``data``, parents before children (the contract's order)."""
    out = []
    for name in contract.TABLES:
        f = data / f"{name}.parquet"
        if f.exists():
            out.append((name, f))
    return out


def _columns(name: str, schema: pa.Schema) -> list[str]:
    return [c for c in contract.get_table(name).column_names if c in schema.names]


def _sqlite_batch(batch: pa.RecordBatch, name: str, cols: list[str]) -> list[tuple]:
    arrays = []
    table = contract.get_table(name)
    for c in cols:
        arr = batch.column(batch.schema.get_field_index(c))
        kind = table.column(c).type
        if kind == "timestamp":
            arr = pc.strftime(pc.cast(arr, pa.timestamp("us", "UTC")), format="%Y-%m-%d %H:%M:%S")
        elif kind == "date":
            arr = pc.cast(arr, pa.string())
        elif kind == "bool":
            arr = pc.cast(arr, pa.int8())
        elif kind == "money":
            arr = pc.cast(arr, pa.float64())
        arrays.append(arr.to_pylist())
    return list(zip(*arrays, strict=True))


def _load_sqlite(path: str, files: list[tuple[str, Path]]) -> dict[str, int]:
    counts = {}
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    for name, f in files:
        pf = pq.ParquetFile(f)
        cols = _columns(name, pf.schema_arrow)
        sql = f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        n = 0
        for batch in pf.iter_batches(batch_size=BATCH, columns=cols):
            con.executemany(sql, _sqlite_batch(batch, name, cols))
            con.commit()
            n += batch.num_rows
        counts[name] = n
    con.close()
    return counts


def _load_postgres(url: str, files: list[tuple[str, Path]]) -> dict[str, int]:
    import psycopg

    counts = {}
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as conn:
        for name, f in files:
            pf = pq.ParquetFile(f)
            cols = _columns(name, pf.schema_arrow)
            n = 0
            sql = f"COPY {name} ({', '.join(cols)}) FROM STDIN (FORMAT csv)"
            with conn.cursor() as cur, cur.copy(sql) as copy:
                for batch in pf.iter_batches(batch_size=BATCH, columns=cols):
                    buf = io.BytesIO()
                    pacsv.write_csv(pa.Table.from_batches([batch]), buf, pacsv.WriteOptions(include_header=False))
                    copy.write(buf.getvalue())
                    n += batch.num_rows
            conn.commit()
            counts[name] = n
        conn.autocommit = True
        for name, _ in files:
            conn.execute(f"ANALYZE {name}")
    return counts


def load_store(data: Path, url: str) -> dict[str, object]:
    """Migrate the (empty) store at ``url`` and bulk-load the generator's Parquet files from ``data``."""
    engine = make_engine(url)
    upgrade(engine)
    with engine.connect() as conn:
        if conn.execute(text("SELECT count(*) FROM customers")).scalar():
            raise SystemExit(f"{make_url(url).render_as_string()} is not empty: drop it first")
    engine.dispose()
    files = _ordered_tables(data)
    started = time.perf_counter()
    if url.startswith("sqlite"):
        counts = _load_sqlite(make_url(url).database or "", files)
    else:
        counts = _load_postgres(url, files)
    return {"seconds": round(time.perf_counter() - started, 1), "rows": counts}
