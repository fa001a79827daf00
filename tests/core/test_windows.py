"""Local buckets across DST and odd offsets; rollup decomposition tiles exactly."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from usagekit.core.windows import (
    DAY,
    HOUR,
    QUARTER,
    RAW,
    Edge,
    Granularity,
    buckets,
    decompose,
    decompose_distinct,
    elementary,
    windows,
    zone,
)


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def hours(span: tuple[int, int]) -> float:
    return (span[1] - span[0]) / HOUR


@pytest.mark.parametrize(
    ("tz", "day", "length"),
    [
        ("Europe/London", "2026-03-29", 23),  # spring forward
        ("Europe/London", "2026-10-25", 25),  # fall back
        ("America/New_York", "2026-11-01", 25),
        ("Australia/Lord_Howe", "2026-04-05", 24.5),  # half-hour DST shift
        ("Asia/Kolkata", "2026-10-25", 24),
    ],
)
def test_day_lengths_follow_the_zone(tz: str, day: str, length: float) -> None:
    zi = zone(tz)
    start = int(datetime.fromisoformat(day).replace(tzinfo=zi).timestamp() * 1000)
    [span] = buckets(start, start + int(length * HOUR), Granularity.DAY, zi)
    assert hours(span) == length


def test_repeated_hour_gives_two_buckets() -> None:
    zi = zone("Europe/London")
    spans = buckets(
        ms("2026-10-25T00:00:00+00:00"), ms("2026-10-25T03:00:00+00:00"), Granularity.HOUR, zi
    )
    assert [hours(s) for s in spans] == [1, 1, 1]
    labels = [datetime.fromtimestamp(s[0] / 1000, zi).strftime("%H:%M%z") for s in spans]
    assert labels == ["01:00+0100", "01:00+0000", "02:00+0000"]


def test_half_and_three_quarter_hour_offsets() -> None:
    for tz, first_edge in (
        ("Asia/Kolkata", "18:30"),
        ("Asia/Kathmandu", "18:15"),
        ("Pacific/Chatham", "11:15"),
    ):
        spans = buckets(
            ms("2026-06-01T00:00:00+00:00"),
            ms("2026-06-03T00:00:00+00:00"),
            Granularity.DAY,
            zone(tz),
        )
        edge = datetime.fromtimestamp(spans[0][1] / 1000, ZoneInfo("UTC")).strftime("%H:%M")
        assert edge == first_edge, tz


def test_weeks_start_monday_and_months_have_their_length() -> None:
    utc = zone("UTC")
    weeks = buckets(
        ms("2026-11-01T00:00:00+00:00"), ms("2026-11-30T00:00:00+00:00"), Granularity.WEEK, utc
    )
    assert [datetime.fromtimestamp(s / 1000, utc).weekday() for s, _ in weeks[1:]] == [0] * 4
    months = buckets(
        ms("2026-01-01T00:00:00+00:00"), ms("2027-01-01T00:00:00+00:00"), Granularity.MONTH, utc
    )
    assert [round(hours(s) / 24) for s in months] == [
        31,
        28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ]


def test_rolling_and_month_to_date_windows() -> None:
    zi = zone("America/New_York")
    spans = buckets(
        ms("2026-11-01T00:00:00-04:00"), ms("2026-11-03T00:00:00-05:00"), Granularity.DAY, zi
    )
    mtd = windows(spans, "month_to_date", zi)
    assert [w[0] for w in mtd] == [spans[0][0]] * 2
    rolling = windows(spans, 7, zi)
    assert rolling[0][0] == ms("2026-10-26T00:00:00-04:00")
    elem = elementary(rolling)
    for (lo, hi), (a, b) in zip(rolling, elem.runs, strict=True):
        assert (elem.bounds[a], elem.bounds[b]) == (lo, hi)


bounds = st.integers(0, 400 * DAY)


@given(bounds, bounds)
def test_decompose_tiles_with_aligned_pieces(a: int, b: int) -> None:
    lo, hi = min(a, b), max(a, b)
    pieces = decompose(lo, hi)
    cursor = lo
    for level, p_lo, p_hi in pieces:
        assert p_lo == cursor
        cursor = p_hi
        if level != RAW:
            assert p_lo % level == 0 and p_hi % level == 0
        else:
            assert p_hi - p_lo < 2 * QUARTER
    assert cursor == hi


@given(bounds, st.integers(1, 3 * DAY))
def test_decompose_distinct_covers_with_bucket_edges(lo: int, length: int) -> None:
    hi = lo + length
    covered = []
    for edge, level, a, b in decompose_distinct(lo, hi):
        if edge is None:
            assert level == RAW and b - a < HOUR
            covered.append((a, b))
        elif edge is Edge.FULL:
            covered.append((a, b))
        elif edge is Edge.SUFFIX:
            assert a % level == 0 and a <= b < a + level
            covered.append((b, a + level))
        else:
            assert a % level == 0 and a < b < a + level
            covered.append((a, b))
    covered.sort()
    assert covered[0][0] == lo and covered[-1][1] == hi
    assert all(x[1] == y[0] for x, y in itertools.pairwise(covered))


def test_unknown_zone_names_the_parameter() -> None:
    with pytest.raises(ValueError, match="time zone") as info:
        zone("Nowhere/Special")
    assert getattr(info.value, "param", None) == "tz"


def offset_changes(tz: ZoneInfo, lo: int, hi: int) -> list[int]:
    """UTC instants (ms) in [lo, hi) where the zone's offset changes, by a 15-minute scan."""
    step = 15 * 60_000
    return [t for t in range(lo + step, hi, step)
            if datetime.fromtimestamp((t - step) / 1000, tz).utcoffset()
            != datetime.fromtimestamp(t / 1000, tz).utcoffset()]  # fmt: skip


@pytest.mark.parametrize("name", ["Pacific/Chatham", "Australia/Lord_Howe", "Europe/Paris"])
def test_hour_buckets_hold_one_local_hour_at_one_offset(name: str) -> None:
    """Around every offset change of 2024-2028, including those off the hour."""
    tz = ZoneInfo(name)
    lo = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp()) * 1000
    hi = int(datetime(2028, 1, 1, tzinfo=UTC).timestamp()) * 1000
    changes = offset_changes(tz, lo, hi)
    assert len(changes) >= 6
    for change in changes:
        start, end = change - 5 * 3_600_000 + 7 * 60_000, change + 5 * 3_600_000
        found = buckets(start, end, Granularity.HOUR, tz)
        assert found[0][0] == start and found[-1][1] == end
        assert all(a[1] == b[0] for a, b in itertools.pairwise(found))
        assert change in {b for b, _ in found}  # a bucket starts at the change
        for b_lo, b_hi in found:
            first = datetime.fromtimestamp(b_lo / 1000, tz)
            last = datetime.fromtimestamp((b_hi - 1) / 1000, tz)
            assert (first.date(), first.hour, first.utcoffset()) == (
                last.date(), last.hour, last.utcoffset()), (name, b_lo, b_hi)  # fmt: skip
