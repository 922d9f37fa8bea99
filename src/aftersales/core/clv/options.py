"""The options of a CLV run, defined once: model names, spend models, time units and :class:`ClvOptions`.

The CLI's choices and the API's literals are derived from these names, and every entry point builds
one :class:`ClvOptions` (the value object the services take), so a new model or a changed default is
made here only. Validation errors carry the option's name as their field location (``("margin",)``);
each entry point renders it in its own terms (``--margin`` on the CLI, ``/margin`` in a problem).

>>> ClvOptions(horizon=26, margin=0.3).unit
'W'
>>> ClvOptions(model="nope")
Traceback (most recent call last):
aftersales.core.errors.ValidationError: unknown model 'nope': choose bgnbd, mbgnbd, paretonbd
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

from aftersales.core.errors import FieldError, ValidationError

__all__ = [
    "MODEL_NAMES",
    "SPEND_MODELS",
    "TIME_UNITS",
    "ClvOptions",
    "ModelName",
    "SpendModel",
    "TimeUnit",
    "UnitCode",
]

ModelName = Literal["bgnbd", "mbgnbd", "paretonbd"]
"""Purchase models (``core.clv.TRANSACTION_MODELS`` maps each name to its class)."""
SpendModel = Literal["gammagamma", "none"]
"""Spend models: Gamma-Gamma, or none (each customer's own mean repeat spend)."""
TimeUnit = Literal["day", "week"]
UnitCode = Literal["D", "W"]

MODEL_NAMES: tuple[ModelName, ...] = get_args(ModelName)
SPEND_MODELS: tuple[SpendModel, ...] = get_args(SpendModel)
TIME_UNITS: tuple[TimeUnit, ...] = get_args(TimeUnit)
_UNIT_CODES: dict[TimeUnit, UnitCode] = {"day": "D", "week": "W"}
_MIN_MARGIN = 1e-6  # a fraction of revenue; smaller values underflow in SQL literals


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError(message, [FieldError((field,), message)])


@dataclass(frozen=True)
class ClvOptions:
    """What to fit and how to value it.

    ``model`` the purchase model; ``spend`` the spend model; ``horizon`` the CLV horizon in time units;
    ``discount`` the annual discount rate (0.10 = 10% a year); ``margin`` the profit margin applied to
    spend (a fraction in (0, 1]); ``calibration_end`` the last day fitted (None: the last order's day);
    ``time_unit`` the unit of recency, T and the horizon; ``penalizer`` an L2 penalty (0: plain MLE).
    """

    model: ModelName = "bgnbd"
    spend: SpendModel = "gammagamma"
    horizon: float = 52.0
    discount: float = 0.10
    margin: float = 1.0
    calibration_end: date | None = None
    time_unit: TimeUnit = "week"
    penalizer: float = 0.0

    def __post_init__(self) -> None:
        # Values arrive from Python callers too: check them, and accept names in any case.
        for field, value, allowed in (
            ("model", self.model, MODEL_NAMES),
            ("spend", self.spend, SPEND_MODELS),
            ("time_unit", self.time_unit, TIME_UNITS),
        ):
            name = str(value).lower()
            if name not in allowed:
                kind = {"model": "model", "spend": "spend model", "time_unit": "time unit"}[field]
                raise _invalid(field, f"unknown {kind} {value!r}: choose {', '.join(allowed)}")
            object.__setattr__(self, field, name)
        for field in ("horizon", "discount", "margin", "penalizer"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise _invalid(field, f"{field} must be a finite number, not {value!r}")
        if self.horizon <= 0:
            raise _invalid("horizon", "horizon must be > 0")
        if not 0 <= self.discount < 10:
            raise _invalid("discount", "the annual discount rate must be in [0, 10) (0.10 means 10% a year)")
        if not _MIN_MARGIN <= self.margin <= 1:
            raise _invalid("margin", "margin must be between 0.000001 and 1")
        if self.penalizer < 0:
            raise _invalid("penalizer", "penalizer must be >= 0")

    @property
    def unit(self) -> UnitCode:
        """The time unit's code in the engine expressions: ``"D"`` or ``"W"``."""
        return _UNIT_CODES[self.time_unit]

    @property
    def spend_model(self) -> Literal["gammagamma"] | None:
        """The spend model to fit, None for the customers' own mean spend."""
        return None if self.spend == "none" else "gammagamma"
