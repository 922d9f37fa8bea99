"""One CLV fit, scored twice: ``score_customers(fitted=...)`` reuses a fit that serves the options asked
for (and only then), with scores equal to a fresh fit's; ``aftersales refresh`` stores the same
``clv_scores`` as ``clv refresh`` alone although it fits once for the profiles and the scores."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from aftersales.adapters.engines import open_dataframes
from aftersales.core.clv.options import ClvOptions
from aftersales.core.errors import ValidationError
from aftersales.core.synthetic import generate_store
from aftersales.services.analytical.clv import fit_customers, score_customers, score_fitted

AS_OF = date(2024, 6, 30)
END = date(2024, 6, 29)


@pytest.fixture(scope="module")
def generated() -> dict[str, Any]:
    return generate_store(1500, seed=3, as_of=AS_OF).tables


def _rows(src: Any, table: Any) -> list[dict[str, Any]]:
    return src.to_arrow(table).sort_by("customer_id").to_pylist()


def _assert_same_scores(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> None:
    """Equal ids and tiers, floats to 1e-9: two fits of the same data differ in the last digits (the
    engine hands the distinct tuples over in no fixed order, so the likelihood sums in another order)."""
    assert [(r["customer_id"], r["risk_tier"]) for r in a] == [(r["customer_id"], r["risk_tier"]) for r in b]
    for col in ("p_alive", "expected_purchases", "expected_spend", "clv"):
        assert [r[col] for r in a] == pytest.approx([r[col] for r in b], rel=1e-9, abs=1e-12), col


def test_a_serving_fit_is_scored_again_and_equals_a_fresh_fit(generated: dict[str, Any]) -> None:
    with open_dataframes(generated) as src:
        fitted = fit_customers(src, ClvOptions(calibration_end=END, horizon=365 / 7))  # the profiles' horizon
        stored = ClvOptions(calibration_end=END, margin=0.4)  # the stored scores': 52 weeks, another margin
        reused = score_customers(src, stored, fitted=fitted)
        fresh = score_customers(src, stored)
        assert reused.prediction.fit is fitted.fit  # no second fit
        assert fresh.prediction.fit is not fitted.fit
        assert reused.prediction.fit.model.params_ == pytest.approx(fresh.prediction.fit.model.params_, rel=1e-9)
        _assert_same_scores(_rows(src, reused.table), _rows(src, fresh.table))
        assert reused.prediction.total_clv == pytest.approx(fresh.prediction.total_clv, rel=1e-9)
        assert reused.prediction.tiers == fresh.prediction.tiers
        # the profiles' own scores differ (longer horizon): the reuse rescored, it did not copy them
        profiles_clv = score_fitted(src, fitted).prediction.total_clv
        assert profiles_clv != pytest.approx(reused.prediction.total_clv)


def test_a_fit_that_does_not_serve_the_options_is_not_reused(generated: dict[str, Any]) -> None:
    with open_dataframes(generated) as src:
        fitted = fit_customers(src, ClvOptions(calibration_end=END))
        for other in (
            ClvOptions(calibration_end=END - timedelta(days=30)),
            ClvOptions(calibration_end=END, model="paretonbd"),
            ClvOptions(calibration_end=END, penalizer=0.001),
            ClvOptions(calibration_end=END, spend="none"),
            ClvOptions(calibration_end=END, time_unit="day", horizon=365),
        ):
            again = score_customers(src, other, fitted=fitted)
            assert again.prediction.fit is not fitted.fit, other
            _assert_same_scores(_rows(src, again.table), _rows(src, score_customers(src, other).table))
        other_zone = score_customers(src, ClvOptions(calibration_end=END), tz="Asia/Tokyo", fitted=fitted)
        assert other_zone.prediction.fit is not fitted.fit


def test_a_fit_up_to_the_last_order_serves_options_without_a_calibration_end(generated: dict[str, Any]) -> None:
    with open_dataframes(generated) as src:
        [row] = src.execute(src.table("orders").aggregate(last=src.table("orders").ordered_at.max()))
        last_day = row["last"].date()
        fitted = fit_customers(src, ClvOptions(calibration_end=last_day))
        assert score_customers(src, ClvOptions(), fitted=fitted).prediction.fit is fitted.fit
        earlier = fit_customers(src, ClvOptions(calibration_end=last_day - timedelta(days=1)))
        assert score_customers(src, ClvOptions(), fitted=earlier).prediction.fit is not earlier.fit


def test_scoring_a_fit_in_another_time_unit_is_refused(generated: dict[str, Any]) -> None:
    with open_dataframes(generated) as src:
        fitted = fit_customers(src, ClvOptions(calibration_end=END))
        with pytest.raises(ValidationError, match="time unit"):
            score_fitted(src, fitted, ClvOptions(calibration_end=END, time_unit="day", horizon=365))


def _stored_scores(url: str) -> dict[str, tuple[Any, ...]]:
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        rows = conn.execute(
            "SELECT customer_id, model, calibration_end, time_unit, horizon, p_alive, expected_purchases, "
            "expected_spend, clv, risk_tier FROM clv_scores"
        ).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_refresh_stores_the_scores_clv_refresh_stores(tmp_path: Path) -> None:
    from aftersales import bootstrap

    url = f"sqlite:///{tmp_path / 'store.db'}"
    bootstrap.demo(customers=600, seed=5, out=str(tmp_path / "files"), db=url, as_of=AS_OF)
    summary = bootstrap.refresh(url, as_of=AS_OF)
    assert summary.profiles.build.clv_fit is not None and summary.scores is not None
    assert summary.scores.params == summary.profiles.build.fit["params"]  # one fit behind both
    by_refresh = _stored_scores(url)
    alone = bootstrap.refresh_scores(url, options=replace(ClvOptions(), calibration_end=END))
    by_clv_refresh = _stored_scores(url)
    assert alone.n_scored == summary.scores.n_scored == len(by_refresh) > 300
    assert by_refresh.keys() == by_clv_refresh.keys()
    for cid, row in by_refresh.items():  # model, calibration end, unit, horizon, 4 scores, tier
        other = by_clv_refresh[cid]
        assert row[:3] == other[:3] and row[-1] == other[-1], cid
        assert row[3:-1] == pytest.approx(other[3:-1], rel=1e-9, abs=1e-12), cid
    assert alone.total_clv == pytest.approx(summary.scores.total_clv, rel=1e-9)
    assert alone.risk_tiers == summary.scores.risk_tiers
    assert {str(v[1]) for v in by_refresh.values()} == {END.isoformat()}
