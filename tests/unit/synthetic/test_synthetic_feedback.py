"""CES responses with known dimension weights and comments from known themes: on the scale, true to
their truth, and drawn from a stream of their own (every other generated value is what it was)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from aftersales.core.synthetic import SyntheticStore, generate_store
from aftersales.core.synthetic import store as store_module
from aftersales.core.synthetic.feedback import CES_SURVEY, DIMENSIONS, PHRASES, THEMES, WEIGHTS, draw_feedback


def _ces(store: SyntheticStore) -> pa.Table:
    s = store.tables["survey_responses"]
    return s.filter(pc.equal(s["kind"], "ces"))


def test_ces_rows_follow_the_nps_and_csat_rows_and_stay_on_the_scale(synthetic_store: SyntheticStore) -> None:
    s = synthetic_store.tables["survey_responses"].to_pandas()
    kinds = s.kind.to_numpy()
    first_ces = int(np.flatnonzero(kinds == "ces")[0])
    assert set(kinds[:first_ces]) == {"nps", "csat"} and set(kinds[first_ces:]) == {"ces"}
    ces = s[s.kind == "ces"]
    assert ces.score.between(1, 7).all() and (ces.survey_id == CES_SURVEY).all()
    per = ces.groupby("response_id").dimension.agg(list)
    assert per.map(lambda d: tuple(d) == ("overall", *DIMENSIONS)).all()
    assert ces.comment[ces.dimension != "overall"].isna().all()
    orders = synthetic_store.tables["orders"].to_pandas().set_index("order_id")
    delivered = orders.delivered_at.reindex(ces.order_id.unique())
    assert delivered.notna().all()
    first = ces.groupby("order_id").responded_at.first()
    assert (first > delivered.reindex(first.index)).all()


def test_truth_names_the_theme_of_every_comment(synthetic_store: SyntheticStore) -> None:
    truth = synthetic_store.truth["surveys"][CES_SURVEY]  # type: ignore[index]
    assert truth["weights"] == WEIGHTS and truth["themes"] == list(THEMES)
    themed = {rid: theme for theme, ids in truth["comment_themes"].items() for rid in ids}
    ces = _ces(synthetic_store).to_pandas()
    commented = ces[ces.comment.notna()]
    assert set(commented.response_id) == set(themed)
    for rid, text in zip(commented.response_id[:300], commented.comment[:300], strict=True):
        theme = themed[rid]
        assert any(p.split("{")[0][:12] in text for p in PHRASES[theme]), (theme, text)


def test_themes_move_their_dimensions(synthetic_store: SyntheticStore) -> None:
    truth = synthetic_store.truth["surveys"][CES_SURVEY]  # type: ignore[index]
    theme_of = {rid: t for t, ids in truth["comment_themes"].items() for rid in ids}
    wide = _ces(synthetic_store).to_pandas().pivot(index="response_id", columns="dimension", values="score")
    wide["theme"] = wide.index.map(theme_of)
    means = wide.groupby("theme")[["shipping", "product", "support"]].mean()
    assert means.loc["late_delivery", "shipping"] < means["shipping"].drop("late_delivery").min() - 1.5
    assert means.loc["damaged_item", "product"] < means["product"].drop("damaged_item").min() - 1.5
    assert means.loc["slow_support", "support"] < means["support"].drop(["slow_support", "damaged_item"]).min() - 1.5


def test_least_squares_on_the_generated_answers_lands_near_the_weights(synthetic_store: SyntheticStore) -> None:
    wide = _ces(synthetic_store).to_pandas().pivot(index="response_id", columns="dimension", values="score")
    x = np.column_stack([np.ones(len(wide)), wide[list(DIMENSIONS)].to_numpy(float)])
    b, *_ = np.linalg.lstsq(x, wide.overall.to_numpy(float), rcond=None)
    assert len(wide) > 5_000
    assert np.allclose(b[1:], [WEIGHTS[d] for d in DIMENSIONS], atol=0.03)


def test_the_feedback_stream_leaves_every_other_value_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    """Generate twice, the second time with another stream for the feedback: every table (and the
    NPS and CSAT rows of survey_responses) is equal, the CES rows are not."""
    as_of = date(2025, 1, 1)
    a = generate_store(2_000, seed=4, as_of=as_of)
    other = np.random.default_rng(99)
    monkeypatch.setattr(store_module, "draw_feedback", lambda _rng, **kw: draw_feedback(other, **kw))
    b = generate_store(2_000, seed=4, as_of=as_of)
    for name, table in a.tables.items():
        if name != "survey_responses":
            assert table.equals(b.tables[name]), name
    old = [s.tables["survey_responses"] for s in (a, b)]
    old = [t.filter(pc.not_equal(t["kind"], "ces")) for t in old]
    assert old[0].equals(old[1])
    assert not _ces(a).equals(_ces(b))
    assert a.customer_truth.equals(b.customer_truth)
    assert {k: v for k, v in a.truth.items() if k != "surveys"} == {k: v for k, v in b.truth.items() if k != "surveys"}
