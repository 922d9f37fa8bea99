"""aftersales: measure, predict, act on and prove everything that happens after the sale."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("aftersales")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
