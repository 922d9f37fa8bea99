"""CLV option names, risk tiers and the tracking curve are defined once in core; entry points derive
their choices from them, and the options value checks its fields with neutral, located errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from aftersales.adapters.sources.table_files import output_format
from aftersales.core.clv import TRANSACTION_MODELS
from aftersales.core.clv.beta_geo import BetaGeo
from aftersales.core.clv.checking import expected_cumulative_purchases, tracking_curve, tracking_start
from aftersales.core.clv.options import MODEL_NAMES, SPEND_MODELS, TIME_UNITS, ClvOptions
from aftersales.core.clv.value import RISK_BOUNDS, RISK_TIERS, risk_tier
from aftersales.core.errors import UnknownFormatError, UnusableInputError, ValidationError


def test_every_model_name_has_a_model_and_every_model_a_name() -> None:
    assert tuple(TRANSACTION_MODELS) == MODEL_NAMES


def test_entry_points_offer_exactly_the_core_names() -> None:
    from typing import get_args

    import typer.main

    from aftersales.entrypoints.api.analytics_schemas import RefreshIn, ScoreOut
    from aftersales.entrypoints.cli.clv import clv_app

    group = typer.main.get_command(clv_app)
    for command in ("fit", "predict", "report", "refresh"):
        params = {p.name: p for p in group.commands[command].params}
        assert get_args(params["model"].type_descriptor.annotation) == MODEL_NAMES, command
        assert get_args(params["time_unit"].type_descriptor.annotation) == TIME_UNITS, command
    spend = next(p for p in group.commands["predict"].params if p.name == "spend")
    assert get_args(spend.type_descriptor.annotation) == SPEND_MODELS
    schema = RefreshIn.model_json_schema()["properties"]
    assert tuple(schema["model"]["enum"]) == MODEL_NAMES and tuple(schema["spend"]["enum"]) == SPEND_MODELS
    assert tuple(ScoreOut.model_json_schema()["properties"]["risk_tier"]["enum"]) == RISK_TIERS


def test_risk_tiers_follow_the_bounds() -> None:
    low, high = RISK_BOUNDS
    got = risk_tier([0.0, np.nextafter(low, 0), low, np.nextafter(high, 0), high, 1.0]).tolist()
    assert got == ["high", "high", "medium", "medium", "low", "low"]
    assert set(got) == set(RISK_TIERS)


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"model": "nope"}, "model", "unknown model"),
        ({"spend": "lognormal"}, "spend", "unknown spend model"),
        ({"time_unit": "fortnight"}, "time_unit", "unknown time unit"),
        ({"horizon": 0.0}, "horizon", "horizon must be > 0"),
        ({"horizon": float("inf")}, "horizon", "finite"),
        ({"discount": 10.0}, "discount", "discount rate"),
        ({"margin": 0.0}, "margin", "margin must be between"),
        ({"penalizer": -1.0}, "penalizer", "penalizer"),
    ],
)
def test_a_bad_option_names_its_field_in_neutral_words(kwargs: dict, field: str, words: str) -> None:
    with pytest.raises(ValidationError, match=words) as info:
        ClvOptions(**kwargs)
    assert [e.loc for e in info.value.errors] == [(field,)]
    assert "--" not in str(info.value) and all("--" not in e.message for e in info.value.errors)


def test_options_accept_names_in_any_case_and_give_engine_codes() -> None:
    opt = ClvOptions(model="ParetoNBD", spend="NONE", time_unit="Day")  # type: ignore[arg-type]  # callers' text
    assert (opt.model, opt.spend, opt.time_unit, opt.unit, opt.spend_model) == ("paretonbd", "none", "day", "D", None)
    assert ClvOptions().spend_model == "gammagamma" and ClvOptions().unit == "W"


def test_tracking_curve_counts_and_expects_the_cohort_week_by_week() -> None:
    m = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    cal, hold = date(2020, 1, 14), date(2020, 1, 28)
    T = np.array([2.0, 1.0])  # weeks: entered on day 0 and day 7 of the window
    start = tracking_start(cal, T, 7.0)
    assert start == date(2019, 12, 31)
    curve = tracking_curve(
        m, T, [3.0, 1.0], days_per_unit=7.0, start=start, calibration_end=cal, holdout_end=hold,
        week=[0, 2, 9], count=[2.0, 1.0, 4.0],
    )  # fmt: skip
    assert [r["week"] for r in curve] == [1, 2, 3, 4, 5]  # days 0..28 after start: the 5th week holds day 28
    assert [r["period"] for r in curve] == ["calibration"] * 2 + ["holdout"] * 3
    assert [r["actual_cumulative"] for r in curve] == [2.0, 2.0, 3.0, 3.0, 7.0]  # week 9 clipped into the last
    want = expected_cumulative_purchases(m, [0.0, 1.0], [1.0, 2.0, 3.0, 4.0, 5.0], [3.0, 1.0])
    assert [r["expected_cumulative"] for r in curve] == pytest.approx(want, rel=1e-12)


def test_output_format_follows_the_extension_or_the_format_given() -> None:
    assert output_format(Path("s.parquet"), None) == "parquet" and output_format(Path("s.CSV"), None) == "csv"
    assert output_format(Path("s.jsonl"), "jsonl") == "jsonl" and output_format(Path("s"), None) == "parquet"
    assert output_format(Path("s.dat"), "csv") == "csv"
    with pytest.raises(UnusableInputError, match=r"s\.csv.*csv.*parquet"):
        output_format(Path("s.csv"), "parquet")
    with pytest.raises(UnknownFormatError, match=r"\.txt"):
        output_format(Path("s.txt"), None)
    with pytest.raises(UnknownFormatError, match="xlsx"):
        output_format(Path("s"), "xlsx")
