"""Which cases of a parametrised test run in the quick loop (`pytest -m "not slow"`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

SLOW = pytest.mark.slow


def first_fast(cases: Sequence[Any]) -> list[Any]:
    """The first case in the quick loop, every other one marked slow (the full suite runs all)."""
    return [
        pytest.param(*(case if isinstance(case, tuple) else (case,)), marks=() if i == 0 else SLOW)
        for i, case in enumerate(cases)
    ]
