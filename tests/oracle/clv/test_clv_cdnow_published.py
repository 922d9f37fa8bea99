"""Published CDNOW results (2,357 customers, 39-week calibration from 1997-01-01, weekly unit).

Sources: Fader, Hardie & Lee (2005) "Counting your customers the easy way" (BG/NBD, Table/Excel);
Fader, Hardie & Lee (2005) "A note on implementing the Pareto/NBD model in MATLAB" and the R BTYD
walkthrough (Pareto/NBD); Fader, Hardie & Lee (2005) "RFM and CLV" / Hardie note 025 (Gamma-Gamma);
Batislam et al. (2007) as fitted by BTYDplus (MBG/NBD).
"""

from __future__ import annotations

import numpy as np
import pytest

from aftersales.core.clv import BetaGeo, GammaGamma, ModifiedBetaGeo, ParetoNBD

pytestmark = pytest.mark.xdist_group("clv_cdnow")


def test_cdnow_cohort_shape(cdnow):
    assert len(cdnow) == 2357
    assert int((cdnow["frequency"] > 0).sum()) == 946  # repeat buyers used by the Gamma-Gamma fit


def test_bgnbd_reproduces_fader_hardie_lee(cdnow):
    m = BetaGeo().fit(cdnow)
    got = [m.params_[k] for k in ("r", "alpha", "a", "b")]
    np.testing.assert_allclose(got, [0.243, 4.414, 0.793, 2.426], atol=6e-4)
    assert m.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    assert m.converged_ and m.n_customers_ == 2357
    assert all(np.isfinite(list(m.standard_errors_.values())))


def test_paretonbd_reproduces_published_fit(cdnow):
    m = ParetoNBD().fit(cdnow)
    got = [m.params_[k] for k in ("r", "alpha", "s", "beta")]
    np.testing.assert_allclose(got, [0.553, 10.578, 0.606, 11.669], atol=6e-4)
    assert m.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)


def test_mbgnbd_matches_btydplus(cdnow):
    m = ModifiedBetaGeo().fit(cdnow)
    got = [m.params_[k] for k in ("r", "alpha", "a", "b")]
    np.testing.assert_allclose(got, [0.525, 6.183, 0.891, 1.614], atol=1e-3)


def test_gamma_gamma_reproduces_published_fit(cdnow):
    m = GammaGamma().fit(cdnow)
    got = [m.params_[k] for k in ("p", "q", "gamma")]
    np.testing.assert_allclose(got, [6.25, 3.74, 15.44], atol=6e-3)
    assert m.n_customers_ == 946


def test_fit_on_grouped_rows_equals_fit_on_customers(cdnow):
    grouped = cdnow.groupby(["frequency", "recency", "T"], as_index=False).size()
    a = BetaGeo().fit(cdnow)
    b = BetaGeo().fit(grouped, weights="size")
    assert b.n_rows_ == len(grouped) < len(cdnow)
    np.testing.assert_allclose(list(a.params_.values()), list(b.params_.values()), rtol=1e-6)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-12)


# --- individual predictions at published parameters ---------------------------------------------
BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PNBD = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}


def test_bgnbd_conditional_expectation_from_paper():
    # FHL 2005: customer x=2, t_x=30.43, T=38.86 → 1.226 purchases expected in the next 39 weeks.
    assert BetaGeo.from_params(**BG).expected_purchases(39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=5e-4)


def test_bgnbd_tracking_expectation_from_hardie_spreadsheet(cdnow):
    # Hardie's BG/NBD spreadsheet (cumulative repeat purchases of a new customer) at the MLE.
    times = np.array([0.1429, 1.0, 3.00, 31.8571, 32.00, 78.00])
    expected = np.array([0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576])
    got = BetaGeo().fit(cdnow).expected_population_purchases(times)
    np.testing.assert_allclose(got, expected, atol=5e-4)


def test_paretonbd_conditional_expectation_from_btyd_walkthrough():
    m = ParetoNBD.from_params(**PNBD)
    assert m.expected_purchases(52, 26, 30.86, 31) == pytest.approx(25.46, abs=5e-3)


def test_gamma_gamma_expected_spend_from_hardie_spreadsheet(cdnow):
    # Hardie note 025's spreadsheet, computed at the unrounded MLE (6.25/3.74/15.44 are rounded).
    gg = GammaGamma().fit(cdnow)
    head = cdnow.head(10)
    expected = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
    np.testing.assert_allclose(gg.expected_spend(head["frequency"], head["monetary_value"]), expected, atol=0.02)
