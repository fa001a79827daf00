"""Columnar unique counts (core.day_columns) equal counting sets of values day by day."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from usagekit.core import day_columns
from usagekit.core.day_columns import WHOLE_ROWS, MonthColumns, rolling
from usagekit.core.month_bitmaps import first_day, month_bits, month_of_day

BASE_DAY = 20_483  # 2026-01-29: windows cross February and month ends
SPAN_DAYS = 100

# (stored group id, value, day offset from BASE_DAY) for each sighting
sightings = st.lists(
    st.tuples(st.integers(1, 4), st.sampled_from("abcdefg"), st.integers(0, SPAN_DAYS - 1)),
    max_size=60,
)
# stored group id -> output group: one to one, or several stored groups in one output group
projections = st.sampled_from(
    [{1: 0, 2: 1, 3: 2, 4: 3}, {1: 0, 2: 0, 3: 1, 4: 1}, {1: 0, 2: 0, 3: 0}, {2: 0, 4: 1}]
)


def columns(seen: list[tuple[int, str, int]], group_of: dict[int, int]) -> MonthColumns:
    """The month rows these sightings store, as the query reads them (in two chunks)."""
    words: dict[tuple[int, str, int], int] = {}
    for gid, value, day in seen:
        month, bit = month_bits(BASE_DAY + day)
        words[(gid, value, month)] = words.get((gid, value, month), 0) | bit
    rows = [(gid, value, month << 32 | bits) for (gid, value, month), bits in sorted(words.items())]
    one_to_one = len(set(group_of.values())) == len(group_of)
    return MonthColumns.load([rows[:7], rows[7:]], group_of, one_to_one)


def sets_per_day(
    seen: list[tuple[int, str, int]], group_of: dict[int, int]
) -> dict[tuple[int, int], set[str]]:
    out: dict[tuple[int, int], set[str]] = {}
    for gid, value, day in seen:
        if gid in group_of:
            out.setdefault((group_of[gid], day), set()).add(value)
    return out


def between(by_day: dict[tuple[int, int], set[str]], group: int, lo: int, hi: int) -> int:
    return len(set().union(*(by_day.get((group, d), set()) for d in range(lo, hi))))


@given(
    seen=sightings,
    group_of=projections,
    span=st.sampled_from([1, 2, 7, 29, 30, 31, 45, 366]),
    first=st.integers(0, SPAN_DAYS),
    n=st.integers(1, 40),
)
def test_rolling_counts_equal_sets(
    seen: list[tuple[int, str, int]], group_of: dict[int, int], span: int, first: int, n: int
) -> None:
    cols = columns(seen, group_of)
    groups = max(group_of.values()) + 1
    day0 = BASE_DAY + max(first - span + 1, 0)
    keys, days = cols.active_days(day0, BASE_DAY + first + n)
    by_days = rolling(keys, days, days, cols.key_group, groups, span, BASE_DAY + first - day0, n)
    by_day = sets_per_day(seen, group_of)
    for g in range(groups):
        want = [between(by_day, g, max(first + i - span + 1, 0), first + i + 1) for i in range(n)]
        assert by_days[g].tolist() == want
    if span >= WHOLE_ROWS:  # whole rows as stretches of activity: the same counts
        starts, ends = cols.day_spans(day0)
        by_rows = rolling(
            cols.key, starts, ends, cols.key_group, groups, span, first - day0 + BASE_DAY, n
        )
        assert by_rows.tolist() == by_days.tolist()


@given(seen=sightings, group_of=projections, first=st.integers(0, SPAN_DAYS), n=st.integers(1, 40))
def test_month_to_date_counts_equal_sets(
    seen: list[tuple[int, str, int]], group_of: dict[int, int], first: int, n: int
) -> None:
    cols = columns(seen, group_of)
    groups = max(group_of.values()) + 1
    got = cols.month_to_date(groups, BASE_DAY + first, n)
    by_day = sets_per_day(seen, group_of)
    for g in range(groups):
        want = []
        for i in range(n):
            day = BASE_DAY + first + i
            start = max(first_day(month_of_day(day)) - BASE_DAY, 0)
            want.append(between(by_day, g, start, first + i + 1))
        assert got[g].tolist() == want


@given(
    seen=sightings,
    group_of=projections,
    lo=st.integers(0, SPAN_DAYS),
    length=st.integers(0, 40),
)
def test_keys_within_a_day_range_are_the_values_seen_there(
    seen: list[tuple[int, str, int]], group_of: dict[int, int], lo: int, length: int
) -> None:
    cols = columns(seen, group_of)
    hit = cols.keys_within(BASE_DAY, lo, lo + length)
    got = set(zip(cols.key_group[hit].tolist(), cols.key_values(hit), strict=True))
    want = {
        (group_of[gid], value)
        for gid, value, day in seen
        if gid in group_of and lo <= day < lo + length
    }
    assert got == want


@given(seen=sightings, group_of=projections, first=st.integers(0, SPAN_DAYS), n=st.integers(1, 40))
def test_values_whose_hashes_collide_are_told_apart(
    seen: list[tuple[int, str, int]], group_of: dict[int, int], first: int, n: int
) -> None:
    """Merging stored groups codes values by hash; a collision falls back to exact codes."""
    want = columns(seen, group_of).month_to_date(max(group_of.values()) + 1, BASE_DAY + first, n)
    real = day_columns._codes
    with pytest.MonkeyPatch.context() as patch:  # every value gets the same hash
        patch.setattr(day_columns, "_codes", lambda v, exact=False: real(v, exact) * exact)
        cols = columns(seen, group_of)
        got = cols.month_to_date(max(group_of.values()) + 1, BASE_DAY + first, n)
    assert got.tolist() == want.tolist()
    every = np.arange(len(cols.key_group))
    pairs = list(zip(cols.key_group.tolist(), cols.key_values(every), strict=True))
    assert len(set(pairs)) == len(pairs)  # one key per (group, value)
