"""Day plans tile every window exactly: scanned windows are whole days, the rest days + edges."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from usagekit.core.day_windows import PartialTally, plan_days
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
    if plan is None:
        return
    partial = {p.index: p for p in plan.partial}
    assert sorted([*plan.regular, *partial]) == list(range(len(wins)))
    for i in plan.regular:
        lo, hi = wins[i]
        assert lo % DAY == 0 and hi % DAY == 0
        assert plan.day0 <= lo // DAY and hi // DAY <= plan.stop
        assert hi // DAY == plan.first_end + 1 + (i - plan.regular.start)
    for i, p in partial.items():
        days = [d for d in range(plan.day0, plan.stop) if p.mask >> (d - plan.day0) & 1]
        assert p.mask >> (plan.stop - plan.day0) == 0
        pieces = sorted([(d * DAY, (d + 1) * DAY) for d in days] + list(p.edges))
        assert pieces[0][0] == wins[i][0] and pieces[-1][1] == wins[i][1]
        assert all(a[1] == b[0] for a, b in itertools.pairwise(pieces))
        assert all(lo < hi for lo, hi in pieces)


@given(
    bitmaps=st.dictionaries(st.sampled_from("abcdefgh"), st.integers(0, 255)),
    mask=st.integers(0, 255),
    edges=st.sets(st.sampled_from("abcdefghxyz")),
)
def test_partial_tally_counts_each_value_once(
    bitmaps: dict[str, int], mask: int, edges: set[str]
) -> None:
    tally = PartialTally(mask, edges)
    for value, bitmap in bitmaps.items():
        tally.add(value, bitmap)
    assert tally.count() == len({v for v, b in bitmaps.items() if b & mask} | edges)
