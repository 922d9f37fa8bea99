"""Request and response models of the analytics reads: metrics and stored CLV scores."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from aftersales.core.clv.options import ModelName, SpendModel, TimeUnit
from aftersales.core.clv.value import RiskTier

__all__ = ["MetricsOut", "PeriodOut", "RefreshIn", "RefreshOut", "ScoreOut", "ScorePage"]


class PeriodOut(BaseModel):
    start: date = Field(description="First day of the period (the records' `period`).")
    end: date = Field(description="The day after the last day counted.")
    last_day: date = Field(description="The last day counted (today for a period shown to date).")
    complete: bool = Field(description="False when the period is not over yet: its numbers are to date.")
    label: str = Field(description="In words: `2024-03-01 to 2024-03-31` or `2024-03-01 to date (through ...)`.")


class MetricsOut(BaseModel):
    data: list[dict[str, Any]] = Field(
        description="One record per metric, period and segment: metric, period, segment, value, the "
        "formula's parts and `complete` (the records of `aftersales metrics --format json`)."
    )
    errors: list[str] = Field(description="Metrics that could not run (e.g. the store lacks a table), one line each.")
    periods: list[PeriodOut] = Field(description="The periods shown, oldest first.")
    caption: str = Field(description="The periods shown, in words (e.g. `month 2024-03-01 to date (through ...)`).")


class ScoreOut(BaseModel):
    customer_id: str
    model: str
    calibration_end: date = Field(description="Orders up to this day were fitted and scored.")
    time_unit: TimeUnit
    horizon: float = Field(description="CLV horizon, in time units.")
    p_alive: float = Field(description="P(still a customer) at the calibration end.")
    expected_purchases: float = Field(description="Expected purchases within the horizon.")
    expected_spend: float | None = Field(description="Expected spend per purchase.")
    clv: float | None = Field(description="Discounted expected margin within the horizon.")
    risk_tier: RiskTier = Field(description="Churn risk: high (p_alive < 0.3), medium (< 0.7) or low.")
    computed_at: datetime


class ScorePage(BaseModel):
    items: list[ScoreOut]
    next_cursor: str | None


class RefreshIn(BaseModel):
    """Options of a refresh (all optional; the defaults of `aftersales clv refresh`)."""

    model_config = ConfigDict(extra="forbid")

    model: ModelName = "bgnbd"
    spend: SpendModel = "gammagamma"
    horizon: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)] = 52.0
    discount: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.10
    margin: Annotated[float, Field(ge=1e-6, le=1, allow_inf_nan=False)] = 1.0
    time_unit: TimeUnit = "week"


class RefreshOut(BaseModel):
    n_scored: int = Field(description="Customers scored in this run.")
    n_new: int = Field(description="Customers scored for the first time.")
    n_updated: int
    n_removed: int = Field(description="Scores of an earlier run for customers this run did not score.")
    n_tier_changed: int = Field(description="Customers whose risk tier changed (each announced by webhook).")
    webhooks_queued: int
    risk_tiers: dict[str, int]
    model: str
    params: dict[str, float]
    spend_params: dict[str, float] | None
    calibration_end: date
    time_unit: str
    horizon: float
    total_clv: float | None
    mean_p_alive: float | None
    computed_at: datetime
    fit: dict[str, Any] = Field(description="The purchase model's fit report (standard errors, log-likelihood...).")
