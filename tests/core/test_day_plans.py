"""Day plans tile every window exactly: scanned windows are whole days, the rest days + edges."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from usagekit.core.clock import END_OF_TIME
from usagekit.core.day_plans import DayPlan, plan_days
from usagekit.core.events import MAX_TIME_MS
from usagekit.core.month_bitmaps import month_of_day
from usagekit.core.windows import DAY, Granularity, buckets, windows, zone

BASE = 1_788_220_800_000  # 2026-09-01T00:00:00Z
KINDS = ["incremental", "month_to_date", 1, 7, 30]


@given(
    start=st.integers(BASE - 40 * DAY, BASE + 40 * DAY),
    length=st.integers(60_000, 70 * DAY),
    tz=st.sampled_from(["UTC", "UTC", "Europe/London", "Asia/Kolkata", "Pacific/Chatham"]),
    granularity=st.sampled_from([Granularity.DAY, Granularity.DAY, Granularity.WEEK]),
    kind=st.sampled_from(KINDS),
)
def test_plan_tiles_each_window(
    start: int, length: int, tz: str, granularity: Granularity, kind: int | str
) -> None:
    wins = windows(buckets(start, start + length, granularity, zone(tz)), kind, zone(tz))
    plan = plan_days(wins, kind)
    if tz == "UTC" and granularity is Granularity.DAY:
        assert plan is not None
    if plan is not None:
        assert_tiles(wins, plan)


def test_open_ended_total_stops_at_year_9999() -> None:
    wins = [(BASE + 5 * 3_600_000, END_OF_TIME)]
    plan = plan_days(wins, "incremental")
    assert plan is not None
    assert_tiles(wins, plan)
    assert month_of_day(plan.stop - 1) == month_of_day(MAX_TIME_MS // DAY)


def assert_tiles(wins: list[tuple[int, int]], plan: DayPlan) -> None:
    """Every window is covered exactly once by its days and edges."""
    partial = {p.index: p for p in plan.partial}
    assert sorted([*plan.regular, *partial]) == list(range(len(wins)))
    for i in plan.regular:
        lo, hi = wins[i]
        assert lo % DAY == 0 and hi % DAY == 0
        assert plan.day0 <= lo // DAY and hi // DAY <= plan.stop
        assert hi // DAY == plan.first_end + 1 + (i - plan.regular.start)
    for i, p in partial.items():
        pieces = list(p.edges)
        if p.mask:
            shift = (p.mask & -p.mask).bit_length() - 1
            n = (p.mask >> shift).bit_length()
            assert p.mask >> shift == (1 << n) - 1  # one run of whole days
            assert plan.day0 + shift + n <= plan.stop
            pieces.append(((plan.day0 + shift) * DAY, (plan.day0 + shift + n) * DAY))
        pieces.sort()
        assert pieces[0][0] == wins[i][0] and pieces[-1][1] == wins[i][1]
        assert all(a[1] == b[0] for a, b in itertools.pairwise(pieces))
        assert all(lo < hi for lo, hi in pieces)
