"""Multi-row statements come in few sizes, so prepared statements are reused."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from usagekit.store.util import statement_sizes


@given(st.integers(0, 20_000), st.integers(1, 2_500))
def test_sizes_add_up_and_come_from_a_small_set(n: int, most: int) -> None:
    sizes = list(statement_sizes(n, most))
    assert sum(sizes) == n
    allowed = {most} | {1 << k for k in range(most.bit_length())}
    assert set(sizes) <= allowed
    assert len(sizes) <= n // most + most.bit_length()
