"""Survey analysis on a generated store, on DuckDB, a SQLite store and PostgreSQL: drivers recover the
generator's weights within their intervals, themes recover its comment themes (adjusted Rand index),
trends and remeasures agree across engines, sentiment follows the themes."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sklearn.metrics import adjusted_rand_score

from aftersales.adapters.engines import open_dataframes
from aftersales.adapters.engines.opening import open_source
from aftersales.core.synthetic import SyntheticStore, generate_store
from aftersales.core.synthetic.feedback import CES_SURVEY, DIMENSIONS, THEMES, WEIGHTS
from aftersales.services.analytical.surveys import remeasure, score_trends
from aftersales.services.analytical.surveys_drivers import survey_drivers
from aftersales.services.analytical.surveys_text import comment_themes

AS_OF = date(2025, 6, 1)


@pytest.fixture(scope="module")
def generated() -> SyntheticStore:
    return generate_store(4_000, seed=21, as_of=AS_OF)


@pytest.fixture(scope="module")
def sqlite_source_url(generated: SyntheticStore, tmp_path_factory: pytest.TempPathFactory) -> str:
    from aftersales.adapters.sql.engine import make_engine
    from aftersales.adapters.sql.migrate import upgrade
    from aftersales.adapters.sql.writer import SqlImportStore

    url = f"sqlite:///{tmp_path_factory.mktemp('surveys-sqlite') / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with SqlImportStore(engine).transaction() as tx:
        for name in ("customers", "orders", "survey_responses"):
            tx.upsert(name, generated.tables[name].to_pandas())
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def pg_schema(generated: SyntheticStore, postgres_url: str) -> Iterator[str]:
    import ibis
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url)
    con = ibis.postgres.connect(host=url.host, port=url.port, user=url.username, database=url.database)
    schema = f"surveys_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:6]}"
    con.raw_sql(f'CREATE SCHEMA "{schema}"')
    con.create_table("survey_responses", generated.tables["survey_responses"], database=schema)
    yield schema
    con.raw_sql(f'DROP SCHEMA "{schema}" CASCADE')
    con.disconnect()


@pytest.fixture(params=["duckdb", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def source(request: pytest.FixtureRequest, generated: SyntheticStore) -> Iterator[Any]:
    if request.param == "duckdb":
        opened = open_dataframes({"survey_responses": generated.tables["survey_responses"]})
    elif request.param == "sqlite":
        opened = open_source(request.getfixturevalue("sqlite_source_url"))
    else:
        schema = request.getfixturevalue("pg_schema")
        opened = open_source(request.getfixturevalue("postgres_url").replace("+psycopg", ""), schema=schema)
    with opened as src:
        yield src


def test_drivers_recover_the_generators_weights_within_their_intervals(source: Any) -> None:
    """Five weights at once: each must lie in its 99 % interval, so that all five do with at least 95 %
    (Bonferroni); at 180k generated responses the estimates sit within 0.004 of the weights."""
    report = survey_drivers(source, CES_SURVEY, level=0.99)
    d = report.drivers
    assert report.responses > 2_000 and report.incomplete == 0 and d.n == report.responses
    found = d.by_name()
    assert set(found) == set(DIMENSIONS)
    for name, weight in WEIGHTS.items():
        c = found[name]
        assert c.ci_low <= weight <= c.ci_high, (name, weight, c)
        assert c.ci_high - c.ci_low < 0.1
    assert abs(sum(c.share or 0 for c in d.coefficients) - d.r_squared) < 1e-9
    assert d.coefficients[0].name in ("product", "shipping")  # the largest weights explain the most
    assert "explain" in d.summary()[0]


def test_themes_recover_the_generators_themes(source: Any, generated: SyntheticStore) -> None:
    report = comment_themes(source, survey=CES_SURVEY, n_themes=len(THEMES))
    truth = generated.truth["surveys"][CES_SURVEY]  # type: ignore[index]
    theme_of = {rid: t for t, ids in truth["comment_themes"].items() for rid in ids}
    a = report.assignments
    ari = adjusted_rand_score([theme_of[r] for r in a["response_id"]], a["theme"])
    print(f"adjusted Rand index of the themes: {ari:.3f} on {report.comments:,} comments")
    assert ari >= 0.6
    assert report.comments == len(theme_of) and report.unthemed == 0
    assert sum(t.comments for t in report.themes) == report.comments
    late = next(t for t in report.themes if {"late", "delivery"} & set(t.terms[:3]))
    great = next(t for t in report.themes if {"great", "love", "quality"} & set(t.terms[:3]))
    assert late.average_score is not None and great.average_score is not None
    assert late.average_score < great.average_score and late.sentiment is not None and great.sentiment is not None
    assert great.sentiment > 0.3 > late.sentiment
    assert sum(n for _, n in late.trend) == late.comments and len(late.representatives) == 3


def test_trends_and_remeasure_agree_with_a_direct_count(source: Any, generated: SyntheticStore) -> None:
    points = score_trends(
        source, "ces", survey=CES_SURVEY, period="quarter", start=date(2024, 1, 1), end=date(2025, 1, 1)
    )
    s = generated.tables["survey_responses"]
    s = s.filter(pc.and_(pc.equal(s["kind"], "ces"), pc.equal(s["dimension"], "overall"))).to_pandas()
    q1 = s[(s.responded_at >= "2024-01-01") & (s.responded_at < "2024-04-01")].score
    assert [p.period for p in points] == [date(2024, m, 1) for m in (1, 4, 7, 10)]
    assert points[0].responses == len(q1) and points[0].value == pytest.approx(q1.mean())
    assert points[0].ci_low < q1.mean() < points[0].ci_high
    nps = score_trends(source, "nps", period="year", start=date(2024, 1, 1), end=date(2025, 1, 1))
    n = s.shape[0] and generated.tables["survey_responses"]
    del n
    raw = generated.tables["survey_responses"].to_pandas()
    raw = raw[
        (raw.kind == "nps")
        & (raw.dimension == "overall")
        & (raw.responded_at >= "2024-01-01")
        & (raw.responded_at < "2025-01-01")
    ]
    expected = 100 * ((raw.score >= 9).mean() - (raw.score <= 6).mean())
    assert nps[0].value == pytest.approx(expected) and nps[0].ci_low < expected < nps[0].ci_high
    change = remeasure(source, "nps", (date(2023, 1, 1), date(2024, 1, 1)), (date(2024, 1, 1), date(2025, 1, 1)))
    assert change.after.value == pytest.approx(expected)
    assert change.change == pytest.approx(change.after.value - change.before.value)
    assert change.ci_low < change.change < change.ci_high and "NPS moved from" in change.plain()
    csat = remeasure(source, "csat", (date(2023, 1, 1), date(2024, 1, 1)), (date(2024, 1, 1), date(2025, 1, 1)))
    assert 0 <= csat.after.value <= 100 and csat.ci_low < csat.change < csat.ci_high


def test_a_simulated_improvement_is_found_by_remeasure() -> None:
    """Two periods of CES answers, the second 0.4 points better on average: the interval holds 0.4, not 0."""
    rng = np.random.default_rng(5)
    rows = []
    for month, shift in ((1, 0.0), (7, 0.4)):
        scores = np.clip(np.rint(rng.normal(4.5 + shift, 1.2, 3_000)), 1, 7).astype(int)
        for i, score in enumerate(scores):
            rows.append({"response_id": f"r{month}-{i}", "dimension": "overall", "survey_id": "s", "kind": "ces",
                         "score": int(score), "responded_at": f"2025-{month:02d}-15T12:00:00+00:00"})  # fmt: skip
    table = pa.Table.from_pylist(rows)
    table = table.set_column(
        5,
        "responded_at",
        pc.cast(pc.strptime(table["responded_at"], "%Y-%m-%dT%H:%M:%S%z", "us"), pa.timestamp("us", tz="UTC")),
    )
    with open_dataframes({"survey_responses": table}) as src:
        r = remeasure(src, "ces", (date(2025, 1, 1), date(2025, 2, 1)), (date(2025, 7, 1), date(2025, 8, 1)))
    assert r.ci_low > 0.2 and r.ci_low < 0.4 < r.ci_high and r.p_value < 0.001
