"""The CLV service end to end on DuckDB: the engine summarises and groups, the model fits on distinct
tuples, scores are joined back in the engine and written to Parquet."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from aftersales.adapters.sources.table_files import write_table
from aftersales.core.clv import BetaGeo, GammaGamma
from aftersales.core.clv.options import ClvOptions
from aftersales.core.errors import ValidationError
from aftersales.services.analytical.clv import fit_clv, predict_clv, report_clv

pytestmark = pytest.mark.xdist_group("clv_service")
CAL_END, HOLDOUT_END = date(1997, 9, 30), date(1998, 6, 30)


def test_fit_through_the_engine_reproduces_published_bgnbd(cdnow_source):
    fit = fit_clv(cdnow_source, ClvOptions(model="bgnbd", calibration_end=CAL_END, time_unit="week"))
    got = [fit.model.params_[k] for k in ("r", "alpha", "a", "b")]
    np.testing.assert_allclose(got, [0.243, 4.414, 0.793, 2.426], atol=6e-4)
    report = fit.as_dict()
    assert report["n_customers"] == 2357 and report["converged"]
    assert report["n_distinct_rows"] < 2357
    assert report["log_likelihood"] == pytest.approx(-9582.4, abs=0.05)


def test_fit_pareto_through_the_engine(cdnow_source):
    fit = fit_clv(cdnow_source, ClvOptions(model="paretonbd", calibration_end=CAL_END, time_unit="week"))
    assert fit.model.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)


def test_predict_writes_one_scored_row_per_customer(cdnow_source, tmp_path):
    out = tmp_path / "scores.parquet"
    options = ClvOptions(calibration_end=CAL_END, time_unit="week", horizon=52, discount=0.10, margin=0.3)
    result = predict_clv(cdnow_source, options, out=out, write=write_table)
    scores = pd.read_parquet(out).set_index("customer_id")
    assert list(scores.columns) == ["p_alive", "expected_purchases", "expected_spend", "clv", "risk_tier"]
    assert len(scores) == result.n_customers == 2357
    assert sum(result.tiers.values()) == 2357
    assert result.total_clv == pytest.approx(scores["clv"].sum())
    # Customer c0001 (x=2, t_x=30.43, T=38.86, m=22.35): recompute by hand from the fitted models.
    bg, gg = result.fit.model, result.spend
    assert isinstance(bg, BetaGeo) and isinstance(gg, GammaGamma)
    row = scores.loc["c0001"]
    x, t_x, T = 2.0, 213 / 7, 272 / 7  # bought 1997-01-01, 01-18 and 08-02
    assert row["p_alive"] == pytest.approx(float(bg.probability_alive(x, t_x, T)), rel=1e-12)
    assert row["expected_purchases"] == pytest.approx(float(bg.expected_purchases(52, x, t_x, T)), rel=1e-9)
    spend = float(gg.expected_spend(2, (29.73 + 14.96) / 2))
    assert row["expected_spend"] == pytest.approx(spend, rel=1e-9)
    weeks = np.arange(1, 53)
    steps = np.diff(bg.expected_purchases(np.append(0, weeks), x, t_x, T))
    dcf = float(steps @ 1.10 ** (-weeks / (365.25 / 7)))
    assert row["clv"] == pytest.approx(0.3 * spend * dcf, rel=1e-9)
    assert row["risk_tier"] in {"low", "medium", "high"}


def test_report_tables_are_consistent_with_the_data(cdnow_source):
    rep = report_clv(cdnow_source, ClvOptions(calibration_end=CAL_END, time_unit="week"), holdout_end=HOLDOUT_END)
    assert {r["model"] for r in rep.comparison} == {"BetaGeo", "ModifiedBetaGeo", "ParetoNBD"}
    assert [r["bic"] for r in rep.comparison] == sorted(r["bic"] for r in rep.comparison)
    assert sum(r["customers"] for r in rep.by_frequency) == 2357
    assert rep.by_frequency[-1]["frequency"] == "7+"
    assert rep.errors["actual_total"] == pytest.approx(sum(r["customers"] * r["actual"] for r in rep.by_frequency))
    tracking = pd.DataFrame(rep.tracking)
    calib = tracking[tracking["period"] == "calibration"]
    assert len(calib) == 39  # 1997-01-01 .. 1997-09-30 is 39 whole weeks
    assert np.all(np.diff(tracking["actual_cumulative"]) >= 0)
    assert np.all(np.diff(tracking["expected_cumulative"]) > 0)
    # The expected curve tracks the actual one within a few percent at the end of calibration.
    assert calib["expected_cumulative"].iloc[-1] == pytest.approx(calib["actual_cumulative"].iloc[-1], rel=0.05)


def test_bad_arguments_are_validation_errors_located_by_option_name(cdnow_source):
    cases = [
        (dict(model="nope"), "model", "unknown model"),
        (dict(time_unit="fortnight"), "time_unit", "time unit"),
        (dict(margin=1.5), "margin", "margin"),
        (dict(spend="lognormal"), "spend", "spend model"),
        (dict(horizon=0), "horizon", "horizon"),
        (dict(discount=-0.1), "discount", "discount"),
    ]
    for kwargs, field, words in cases:
        with pytest.raises(ValidationError, match=words) as info:
            ClvOptions(calibration_end=CAL_END, **kwargs)
        assert [e.loc for e in info.value.errors] == [(field,)]
        assert "--" not in str(info.value)  # neutral wording: each entry point names its own option
    with pytest.raises(ValidationError, match="holdout end") as info:
        report_clv(cdnow_source, ClvOptions(calibration_end=CAL_END), holdout_end=CAL_END)
    assert [e.loc for e in info.value.errors] == [("holdout_end",)]
    with pytest.raises(ValidationError, match="calibration end") as info:
        report_clv(cdnow_source, ClvOptions(), holdout_end=HOLDOUT_END)
    assert [e.loc for e in info.value.errors] == [("calibration_end",)]
