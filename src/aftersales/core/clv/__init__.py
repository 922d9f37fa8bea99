"""Predictive customer-lifetime-value and churn models (buy-till-you-die family).

One template (:class:`BaseModel`, lifelines style), one model per module. See docs/clv.md.

The models are imported on first use (PEP 562 ``__getattr__``): they need SciPy and pandas, and
importing a light sibling such as :mod:`aftersales.core.clv.options` (which the CLI reads to build its
choices) runs this file first; importing the models here would cost every ``aftersales`` command,
``--help`` included, those imports (bench/bench_startup.py).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aftersales.core.clv.base import BaseModel
    from aftersales.core.clv.beta_geo import BetaGeo
    from aftersales.core.clv.beta_geo_beta_binom import BetaGeoBetaBinom
    from aftersales.core.clv.gamma_gamma import GammaGamma
    from aftersales.core.clv.modified_beta_geo import ModifiedBetaGeo
    from aftersales.core.clv.pareto_nbd import ParetoNBD
    from aftersales.core.clv.shifted_beta_geo import ShiftedBetaGeo, cohort_rows
    from aftersales.core.clv.transactions import TransactionModel

    TRANSACTION_MODELS: dict[str, type[TransactionModel]]

__all__ = [
    "TRANSACTION_MODELS",
    "BaseModel",
    "BetaGeo",
    "BetaGeoBetaBinom",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "ShiftedBetaGeo",
    "TransactionModel",
    "cohort_rows",
]

_HOME = {  # exported name -> the module that defines it
    "BaseModel": "base",
    "BetaGeo": "beta_geo",
    "BetaGeoBetaBinom": "beta_geo_beta_binom",
    "GammaGamma": "gamma_gamma",
    "ModifiedBetaGeo": "modified_beta_geo",
    "ParetoNBD": "pareto_nbd",
    "ShiftedBetaGeo": "shifted_beta_geo",
    "cohort_rows": "shifted_beta_geo",
    "TransactionModel": "transactions",
}


def _transaction_models() -> dict[str, Any]:
    """Purchase model name (``core.clv.options.MODEL_NAMES``) -> its class."""
    return {
        "bgnbd": __getattr__("BetaGeo"),
        "mbgnbd": __getattr__("ModifiedBetaGeo"),
        "paretonbd": __getattr__("ParetoNBD"),
    }


def __getattr__(name: str) -> Any:
    if name == "TRANSACTION_MODELS":
        value: Any = _transaction_models()
    elif name in _HOME:
        value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # imported once
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
