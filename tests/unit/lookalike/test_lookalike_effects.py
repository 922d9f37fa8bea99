"""Effect sizes of the lookalike profile: published intervals and a tiny table worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from aftersales.core.lookalike.effects import (
    katz_risk_ratio,
    newcombe_difference,
    profile,
    size_word,
    smd,
    smd_binary,
    wilson,
)
from aftersales.core.lookalike.frame import CATEGORICAL, NUMERIC

# Newcombe (1998), "Interval estimation for the difference between independent proportions",
# Statistics in Medicine 17: 873-890, Table II, method 10 (hybrid score): its seven examples.
NEWCOMBE_TABLE_II = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]
# Newcombe (1998), "Two-sided confidence intervals for the single proportion", method 3 (Wilson score).
NEWCOMBE_SINGLE = [
    ((81, 263), (0.2553, 0.3662)),
    ((15, 148), (0.0624, 0.1605)),
    ((0, 20), (0.0, 0.1611)),
    ((1, 29), (0.0061, 0.1718)),
    ((29, 29), (0.8830, 1.0)),
]


@pytest.mark.parametrize(("counts", "expected"), NEWCOMBE_TABLE_II)
def test_newcombe_hybrid_score_interval_matches_the_published_table(counts, expected):
    d, lo, hi = newcombe_difference(*counts)
    assert d == pytest.approx(counts[0] / counts[1] - counts[2] / counts[3])
    assert (round(lo, 4), round(hi, 4)) == expected


@pytest.mark.parametrize(("counts", "expected"), NEWCOMBE_SINGLE)
def test_wilson_interval_matches_the_published_values(counts, expected):
    lo, hi = wilson(*counts)
    assert (round(lo, 4), round(hi, 4)) == expected


def test_katz_risk_ratio_by_hand():
    # 30/60 vs 10/40: RR = 0.5 / 0.25 = 2; SE(ln RR) = sqrt(1/30 - 1/60 + 1/10 - 1/40) = sqrt(0.091667)
    rr, lo, hi = katz_risk_ratio(30, 60, 10, 40)
    se = math.sqrt(1 / 30 - 1 / 60 + 1 / 10 - 1 / 40)
    assert rr == 2.0
    assert lo == pytest.approx(2.0 * math.exp(-1.959964 * se), rel=1e-6)  # 2 / exp(0.5934) = 1.1049
    assert hi == pytest.approx(2.0 * math.exp(1.959964 * se), rel=1e-6)  # 2 * exp(0.5934) = 3.6203
    assert round(lo, 4) == 1.1049 and round(hi, 4) == 3.6203
    assert katz_risk_ratio(0, 10, 3, 10) is None and katz_risk_ratio(3, 10, 0, 10) is None


def test_smd_and_words():
    assert smd(np.array([1.0, 2.0, 3.0, np.nan]), np.array([0.0, 1.0, 2.0])) == 1.0
    assert smd(np.array([2.0, 2.0]), np.array([2.0, 2.0])) == 0.0
    assert math.isnan(smd(np.array([1.0]), np.array([1.0, 2.0])))
    assert smd_binary(0.5, 0.5) == 0.0 and smd_binary(1.0, 1.0) == 0.0
    assert [size_word(d) for d in (0.1, -0.3, 0.6, -0.9, math.nan)] == [
        "negligible", "small", "medium", "large", "negligible",
    ]  # fmt: skip


def _tiny() -> tuple[pd.DataFrame, np.ndarray]:
    """Ten customers, the first four high-value.

    first_order_value: high 100, 120, 80, 100 (mean 100, s² = 800/3); rest 50, 60, 40, 50, 70, 30
    (mean 50, s² = 1000/5 = 200): SMD = 50 / sqrt((266.67 + 200) / 2) = 50 / 15.2753 = 3.2733.
    acquisition channel referral: 3 of 4 high vs 1 of 6 rest: difference 0.5833, RR 4.5; organic: none high.
    """
    n = 10
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)]})
    for col in NUMERIC:
        frame[col] = 1.0
    frame["first_order_value"] = [100, 120, 80, 100, 50, 60, 40, 50, 70, 30]
    frame["bought:kettles"] = [1, 1, 0, 0, 0, 0, 0, 0, 0, 1]
    for col in CATEGORICAL:
        frame[col] = "x"
    frame["acquisition_channel"] = ["referral"] * 3 + ["paid"] + ["organic"] * 5 + ["referral"]
    return frame, np.array([True] * 4 + [False] * 6)


def test_profile_of_a_tiny_table_by_hand():
    frame, high = _tiny()
    traits = {t.trait: t for t in profile(frame, high, ["kettles"], min_level=1)}

    fov = traits["first_order_value"]
    assert (fov.high, fov.rest, fov.n_high, fov.n_rest) == (100.0, 50.0, 4, 6)
    assert fov.smd == pytest.approx(50 / math.sqrt((800 / 3 + 200) / 2)) and round(fov.smd, 4) == 3.2733
    assert fov.sentence.startswith("First order value: mean 100.00 in the high-value group vs 50.00 in the rest, 2.0x")

    ref = traits["acquisition_channel=referral"]
    assert (ref.high, ref.rest) == (0.75, pytest.approx(1 / 6))
    assert ref.difference == pytest.approx(0.75 - 1 / 6)
    assert (ref.difference_low, ref.difference_high) == (
        pytest.approx(newcombe_difference(3, 4, 1, 6)[1]),
        pytest.approx(newcombe_difference(3, 4, 1, 6)[2]),
    )
    assert ref.risk_ratio == pytest.approx(4.5)
    assert ref.smd == pytest.approx((0.75 - 1 / 6) / math.sqrt((0.75 * 0.25 + (1 / 6) * (5 / 6)) / 2))
    assert "75% of the high-value group vs 17% of the rest (4.50x as often" in ref.sentence
    assert traits["acquisition_channel=organic"].risk_ratio is None  # no high-value customer is organic

    kettles = traits["bought:kettles"]
    assert (kettles.high, kettles.rest) == (0.5, pytest.approx(1 / 6))
    assert traits["orders"].smd == 0.0  # constant in both groups

    ranked = [t.trait for t in profile(frame, high, ["kettles"], min_level=1)]
    assert ranked[0] == "first_order_value"  # the largest |SMD| first
    smds = [abs(t.smd) for t in profile(frame, high, ["kettles"], min_level=1) if not math.isnan(t.smd)]
    assert smds == sorted(smds, reverse=True)


def test_rare_levels_are_left_out_of_the_profile():
    frame, high = _tiny()
    traits = {t.trait for t in profile(frame, high, ["kettles"], min_level=5)}
    assert "acquisition_channel=organic" in traits and "acquisition_channel=referral" not in traits
    assert "orders_365d" not in traits and "revenue_365d" not in traits  # they define the tier
