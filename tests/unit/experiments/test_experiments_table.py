"""Input validation: every bad table gives a clear error naming the row."""

from __future__ import annotations

import pandas as pd
import pytest

from aftersales.core.errors import ValidationError
from aftersales.core.experiments.table import summary_table


def _rows(**overrides):
    base = pd.DataFrame(
        {
            "metric": ["revenue", "revenue", "orders", "orders"],
            "variant": ["control", "b", "control", "b"],
            "n": [100, 110, 100, 110],
            "sum": [500.0, 560.0, 30.0, 41.0],
            "sum_squares": [6000.0, 7000.0, 40.0, 50.0],
        }
    )
    for column, (row, value) in overrides.items():
        values = base[column].astype(object).tolist()
        values[row] = value
        base[column] = values
    return base


def test_valid_table_has_cells_and_control():
    t = summary_table(_rows())
    assert t.control == "control"
    assert t.n_cells == 2
    assert t.slice_columns == ()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"n": (1, -5)}, r"row 2 \(metric 'revenue', variant 'b'\): n must be a non-negative integer"),
        ({"n": (3, 1)}, r"row 4 \(metric 'orders', variant 'b'\): n is below 2: the variance is undefined"),
        ({"n": (0, 2.5)}, r"row 1 .*n must be a non-negative integer"),
        ({"sum_squares": (0, 10.0)}, r"row 1 .*sum_squares is below sum²/n"),
        ({"sum": (2, "abc")}, r"row 3 .*sum is not a finite number"),
        ({"variant": (1, "control")}, r"row 2 .*appears twice"),
    ],
)
def test_bad_rows_are_named(overrides, message):
    with pytest.raises(ValidationError, match=message):
        summary_table(_rows(**overrides))


def test_fewer_than_two_variants():
    with pytest.raises(ValidationError, match=r"row 3 \(metric 'orders', variant 'control'\).*at least two"):
        summary_table(_rows().iloc[:3])


def test_missing_control_in_a_slice():
    df = _rows()
    df["variant"] = ["control", "b", "c", "b"]
    with pytest.raises(ValidationError, match=r"row 3 .*without the control 'control'"):
        summary_table(df)
    with pytest.raises(ValidationError, match=r"without the control 'z'"):
        summary_table(_rows(), control="z")


def test_missing_columns_and_empty():
    with pytest.raises(ValidationError, match="sum"):
        summary_table(_rows().drop(columns=["sum"]))
    with pytest.raises(ValidationError, match="sum_squares is missing"):
        summary_table(_rows().drop(columns=["sum_squares"]))
    with pytest.raises(ValidationError, match="no rows"):
        summary_table(_rows().iloc[:0])


def test_proportion_rules():
    df = _rows()
    df["kind"] = ["mean", "mean", "proportion", "proportion"]
    t = summary_table(df.drop(columns=["sum_squares"]).assign(sum_squares=[6000.0, 7000.0, None, None]))
    assert t.sums.sum_squares.tolist()[2:] == [30.0, 41.0]
    df.loc[3, "sum"] = 500
    with pytest.raises(ValidationError, match=r"row 4 .*between 0 and n"):
        summary_table(df)
    df["kind"] = "median"
    with pytest.raises(ValidationError, match=r"row 1 .*kind must be mean, proportion or ratio"):
        summary_table(df)


def test_ratio_and_covariate_rules():
    df = _rows().assign(kind="ratio")
    with pytest.raises(ValidationError, match=r"row 1 .*denominator_sum is required"):
        summary_table(df)
    df = _rows().assign(pre_sum=[1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValidationError, match=r"row 1 .*pre_sum, pre_sum_squares and cross_sum together"):
        summary_table(df)
    df = _rows().assign(
        pre_sum=[1.0, None, 3.0, 4.0], pre_sum_squares=[1.0, None, 9.0, 16.0], cross_sum=[1.0, None, 1, 1]
    )
    with pytest.raises(ValidationError, match="pre_sum differs between the variants"):
        summary_table(df)


def test_slices_and_weights():
    df = pd.concat([_rows().assign(country="FR"), _rows().assign(country="DE")], ignore_index=True)
    t = summary_table(df.assign(weight=[1, 2] * 4))
    assert t.slice_columns == ("country",)
    assert t.n_cells == 4
    with pytest.raises(ValidationError, match=r"row 1 \(metric 'revenue', country 'FR', variant 'control'\): weight"):
        summary_table(df.assign(weight=0))
