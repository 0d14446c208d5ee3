"""Fixtures for the workbench tests (the fakes themselves are in workbench_fakes.py)."""

from __future__ import annotations

import pytest
from workbench_fakes import FakeEngines


@pytest.fixture
def engines() -> FakeEngines:
    """A fresh fake engine factory (every model plays the default script unless told)."""
    return FakeEngines()
