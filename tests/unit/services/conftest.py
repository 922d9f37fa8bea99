"""The use cases on in-memory fakes of the ports (``fakes.py``): each test runs in milliseconds."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from aftersales.services.ports import UnitOfWorkFactory


def _load_fakes() -> Any:
    # The suite imports in importlib mode (no sys.path entry for tests/): load the sibling module by path.
    name = "aftersales_tests_service_fakes"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("fakes.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


fakes = _load_fakes()


@pytest.fixture
def uow() -> Any:
    """A fresh in-memory store behind a ``UnitOfWorkFactory``; ``uow.store`` holds the committed state."""
    factory = fakes.FakeUnitOfWorkFactory()
    _as_port: UnitOfWorkFactory = factory  # what the services take
    return factory
