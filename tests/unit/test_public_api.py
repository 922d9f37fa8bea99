"""The package's public face: ``aftersales.__all__`` (DESIGN.md convention 6) and a cheap import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import aftersales
from aftersales.core import clv, errors

HEAVY = ("pandas", "ibis", "scipy", "numpy", "pyarrow", "sqlalchemy", "duckdb", "fastapi", "typer")


def test_importing_the_package_loads_no_heavy_library():
    # A fresh interpreter: this test process has imported everything already.
    code = f"import sys, json, aftersales; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_the_whole_error_tree_is_public():
    assert set(errors.__all__) <= set(aftersales.__all__)
    for name in errors.__all__:
        assert getattr(aftersales, name) is getattr(errors, name)


def test_every_public_name_resolves_lazy_ones_to_their_module():
    import aftersales.metrics as facade

    assert aftersales.__version__ == aftersales.__dict__["__version__"]
    for name in aftersales.__all__:
        assert getattr(aftersales, name) is not None
    assert aftersales.compute is facade.compute and aftersales.scorecard is facade.scorecard
    assert aftersales.BetaGeo is clv.BetaGeo and aftersales.GammaGamma is clv.GammaGamma
    assert set(aftersales.__all__) <= set(dir(aftersales))


def test_unknown_names_are_attribute_errors_and_submodules_still_import():
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        aftersales.nothing_here  # noqa: B018
    from aftersales import bootstrap

    assert bootstrap.__name__ == "aftersales.bootstrap"
