"""One generated store written to every engine: Parquet (DuckDB, Spark), a SQLite store, PostgreSQL."""

from __future__ import annotations

import os
import uuid
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from aftersales.core import contract
from aftersales.core.synthetic import generate_store

AS_OF = date(2024, 1, 1)


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = generate_store(150, seed=7, as_of=AS_OF)
    out = tmp_path_factory.mktemp("metrics-store")
    tables = dict(store.tables)
    tables["survey_responses"] = _with_ces(tables["survey_responses"])
    for name in contract.TABLES:
        if name in tables:
            pq.write_table(tables[name], out / f"{name}.parquet")
    return out


def _with_ces(responses: pa.Table) -> pa.Table:
    """The generator draws no CES answers: add one per NPS answer (score 0–10 mapped onto 1–7)."""
    nps = responses.filter(pc.equal(responses["kind"], "nps"))
    ces = nps.set_column(nps.schema.get_field_index("kind"), "kind", pa.array(["ces"] * nps.num_rows))
    ces = ces.set_column(
        ces.schema.get_field_index("response_id"),
        "response_id",
        pc.binary_join_element_wise(ces["response_id"], "-ces", ""),
    )
    score = pc.add(pc.divide(pc.multiply(ces["score"], 6), 10), 1)
    ces = ces.set_column(ces.schema.get_field_index("score"), "score", score.cast(pa.int64()))
    return pa.concat_tables([responses, ces.cast(responses.schema)])


@pytest.fixture(scope="session")
def sqlite_url(store_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    from aftersales.adapters.sql.engine import make_engine
    from aftersales.adapters.sql.migrate import upgrade
    from aftersales.adapters.sql.writer import SqlImportStore

    url = f"sqlite:///{tmp_path_factory.mktemp('metrics-sqlite') / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with SqlImportStore(engine).transaction() as tx:
        for name in contract.TABLES:
            f = store_dir / f"{name}.parquet"
            if f.exists():
                tx.upsert(name, pq.read_table(f).to_pandas())
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def pg_schema(store_dir: Path, postgres_url: str):
    """A schema of its own (per xdist worker) holding the store's tables; dropped afterwards."""
    import ibis
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url)
    con = ibis.postgres.connect(host=url.host, port=url.port, user=url.username, database=url.database)
    schema = f"metrics_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:6]}"
    con.raw_sql(f'CREATE SCHEMA "{schema}"')
    for name in contract.TABLES:
        f = store_dir / f"{name}.parquet"
        if f.exists():
            con.create_table(name, pq.read_table(f), database=schema)
    yield schema
    con.raw_sql(f'DROP SCHEMA "{schema}" CASCADE')
    con.disconnect()
