"""CDNOW fixtures: the 2,357-customer cohort summarised the lifetimes way with plain pandas.

Calibration: 39 weeks from 1997-01-01 (through 1997-09-30), weekly time unit (days / 7). Several
purchases on one day are one transaction; ``monetary_value`` is the mean value of repeat transactions.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

CDNOW = Path(__file__).resolve().parents[3] / "data" / "cdnow" / "CDNOW_sample.txt"
CALIBRATION_END = pd.Timestamp("1997-09-30")
OBSERVATION_END = pd.Timestamp("1998-06-30")


def cdnow_summary() -> pd.DataFrame:
    raw = pd.read_csv(CDNOW, sep=r"\s+", header=None, names=["master", "id", "date", "cds", "value"])
    raw["date"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    daily = raw.groupby(["id", "date"], as_index=False)["value"].sum().sort_values(["id", "date"])
    cal = daily[daily["date"] <= CALIBRATION_END]
    first = cal.groupby("id")["date"].transform("min")
    cal = cal.assign(repeat=cal["date"] > first)
    g = cal.groupby("id")
    out = pd.DataFrame(
        {
            "frequency": g["date"].count() - 1,
            "recency": (g["date"].max() - g["date"].min()).dt.days / 7.0,
            "T": (CALIBRATION_END - g["date"].min()).dt.days / 7.0,
            "monetary_value": cal[cal["repeat"]].groupby("id")["value"].mean(),
        }
    )
    out["monetary_value"] = out["monetary_value"].fillna(0.0)
    hold = daily[(daily["date"] > CALIBRATION_END) & (daily["date"] <= OBSERVATION_END)]
    out["frequency_holdout"] = hold.groupby("id")["date"].count().reindex(out.index).fillna(0.0)
    out["duration_holdout"] = (OBSERVATION_END - CALIBRATION_END).days / 7.0
    return out.reset_index(names="customer_id")


@pytest.fixture(scope="session")
def cdnow() -> pd.DataFrame:
    return cdnow_summary()
