"""aftersales: measure, predict, act on and prove everything that happens after the sale.

The package's public face (DESIGN.md convention 6). ``import aftersales`` is cheap: it loads the
version and the error tree (``core/errors.py``) and nothing else, no pandas, Ibis or SciPy, so a
script that only catches ``aftersales.ValidationError`` or prints the version pays milliseconds.
The heavier entry points are loaded on first use (a module ``__getattr__``, PEP 562):

* ``compute``, ``scorecard``, ``rfm_summary``: the notebook facade, :mod:`aftersales.metrics`
  (every metric by name: ``aftersales.metrics.retention_rate(orders, period="quarter")``);
* ``BetaGeo``, ``ModifiedBetaGeo``, ``ParetoNBD``, ``GammaGamma``, ``ShiftedBetaGeo``,
  ``BetaGeoBetaBinom``: the CLV models, :mod:`aftersales.core.clv`.

>>> import aftersales
>>> issubclass(aftersales.ValidationError, aftersales.AftersalesError)
True
>>> aftersales.ValidationError.http_status, aftersales.ValidationError.exit_code
(422, 2)
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from aftersales.core.errors import (
    AftersalesError,
    ConflictError,
    ContractError,
    ConvergenceError,
    EngineError,
    FieldError,
    MissingColumnError,
    MissingTableError,
    NotFoundError,
    PartialSuccess,
    StoreUnavailableError,
    TokenError,
    UnknownFormatError,
    UnusableInputError,
    ValidationError,
)

try:
    __version__ = version("aftersales")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

if TYPE_CHECKING:  # what the lazy CLV names are, for type checkers and editors
    from aftersales.core.clv import (
        BetaGeo,
        BetaGeoBetaBinom,
        GammaGamma,
        ModifiedBetaGeo,
        ParetoNBD,
        ShiftedBetaGeo,
    )
# The facade names are not imported here even for type checkers: the facade is the top layer, and
# entry points import this package (for __version__); they never touch the facade's names.

# Public name -> the module that defines it, imported on first access.
_LAZY: dict[str, str] = {
    "compute": "aftersales.metrics",
    "scorecard": "aftersales.metrics",
    "rfm_summary": "aftersales.metrics",
    "BetaGeo": "aftersales.core.clv",
    "ModifiedBetaGeo": "aftersales.core.clv",
    "ParetoNBD": "aftersales.core.clv",
    "GammaGamma": "aftersales.core.clv",
    "ShiftedBetaGeo": "aftersales.core.clv",
    "BetaGeoBetaBinom": "aftersales.core.clv",
}

__all__ = [
    "AftersalesError",
    "BetaGeo",
    "BetaGeoBetaBinom",
    "ConflictError",
    "ContractError",
    "ConvergenceError",
    "EngineError",
    "FieldError",
    "GammaGamma",
    "MissingColumnError",
    "MissingTableError",
    "ModifiedBetaGeo",
    "NotFoundError",
    "ParetoNBD",
    "PartialSuccess",
    "ShiftedBetaGeo",
    "StoreUnavailableError",
    "TokenError",
    "UnknownFormatError",
    "UnusableInputError",
    "ValidationError",
    "__version__",
    "compute",
    "rfm_summary",
    "scorecard",
]


def __getattr__(name: str) -> Any:
    """Import a heavier public name on first access (and keep it, so the next access is plain)."""
    module = _LAZY.get(name)
    if module is None:
        # AttributeError (not another error): ``from aftersales import bootstrap`` relies on it to
        # fall back to importing the submodule.
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
