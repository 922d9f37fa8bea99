"""Published results of the discrete-time models.

sBG: Fader & Hardie (2007) "How to project customer retention", *JIM* 21(1): the "regular" and
"high end" cohorts, fitted on years 0–7. BG/BB: Fader, Hardie & Shang (2010), *Marketing Science*
29(6): the 11,104 first-time supporters of 1995 with 6 later yearly opportunities (their Table 2),
parameters, P(alive in 2002) (Table 6) and the total of Hardie's "Conditional Expectations (II)" sheet.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aftersales.core.clv.beta_geo_beta_binom import BetaGeoBetaBinom
from aftersales.core.clv.shifted_beta_geo import ShiftedBetaGeo, cohort_rows

REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]

# (frequency, recency, count); every donor had n = 6 opportunities (1996–2001).
DONATIONS = [
    (0, 0, 3464), (1, 1, 1091), (1, 2, 277), (1, 3, 129), (1, 4, 78), (1, 5, 119), (1, 6, 129),
    (2, 2, 613), (2, 3, 255), (2, 4, 155), (2, 5, 173), (2, 6, 234), (3, 3, 322), (3, 4, 181),
    (3, 5, 225), (3, 6, 357), (4, 4, 240), (4, 5, 284), (4, 6, 512), (5, 5, 335), (5, 6, 728),
    (6, 6, 1203),
]  # fmt: skip


@pytest.mark.parametrize(("survivors", "alpha", "beta"), [(REGULAR, 0.704, 1.182), (HIGH_END, 0.668, 3.806)])
def test_sbg_reproduces_fader_hardie_2007(survivors, alpha, beta):
    m = ShiftedBetaGeo().fit(cohort_rows(survivors), weights="count")
    assert m.params_["alpha"] == pytest.approx(alpha, abs=6e-4)
    assert m.params_["beta"] == pytest.approx(beta, abs=6e-4)
    # The fitted survival curve projects the later years the paper shows (years 8–12 held out).
    assert m.survival(7) * 1000 == pytest.approx(survivors[-1], rel=0.02)


def test_sbg_discounted_lifetimes_equal_their_defining_sums():
    m = ShiftedBetaGeo.from_params(alpha=0.668, beta=3.806)
    d, t = 0.10, np.arange(0, 4000)
    disc = (1 + d) ** -t
    assert m.discounted_expected_lifetime(d) == pytest.approx(float(m.survival(t) @ disc), rel=1e-10)
    for n in (0, 1, 4):
        future = np.arange(n + 1, 4000)
        direct = float(m.survival(future) @ (1 + d) ** -(future - n - 1)) / float(m.survival(n))
        assert m.discounted_expected_residual_lifetime(d, n) == pytest.approx(direct, rel=1e-10)


@pytest.fixture(scope="module")
def donations() -> pd.DataFrame:
    frame = pd.DataFrame(DONATIONS, columns=["frequency", "recency", "count"])
    return frame.assign(n_periods=6)


@pytest.fixture(scope="module")
def bgbb(donations) -> BetaGeoBetaBinom:
    return BetaGeoBetaBinom().fit(donations, weights="count")


def test_bgbb_reproduces_fader_hardie_shang_2010(bgbb, donations):
    assert donations["count"].sum() == 11104
    got = [bgbb.params_[k] for k in ("alpha", "beta", "gamma", "delta")]
    np.testing.assert_allclose(got, [1.204, 0.750, 0.657, 2.783], atol=6e-4)
    assert bgbb.log_likelihood_ == pytest.approx(-33225.6, abs=0.05)


def test_bgbb_probability_alive_table_6(bgbb):
    got = bgbb.probability_alive([0, 2, 6], [0, 4, 6], 6, future_periods=1)
    np.testing.assert_allclose(got, [0.11, 0.59, 0.93], atol=5e-3)


def test_bgbb_conditional_expectations_total_of_hardie_sheet(bgbb, donations):
    expected = bgbb.expected_purchases(5, donations["frequency"], donations["recency"], donations["n_periods"])
    assert float(expected @ donations["count"]) == pytest.approx(12884.2, abs=1.0)
