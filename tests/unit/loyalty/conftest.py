"""Registers ``helpers.py`` as the module ``loyalty_helpers`` (the suite imports in importlib mode,
where sibling modules are not importable by name); conftest runs before the test modules load."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

NAME = "loyalty_helpers"
if NAME not in sys.modules:
    spec = importlib.util.spec_from_file_location(NAME, Path(__file__).with_name("helpers.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[NAME] = module
    spec.loader.exec_module(module)
