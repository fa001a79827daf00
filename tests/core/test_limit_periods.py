"""Limit periods against an independent computation: a scan of local dates with zoneinfo."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usagekit.core.errors import ParamError
from usagekit.core.limit_periods import PeriodKind, period_kind, period_of
from usagekit.core.windows import windows

ZONES = ["UTC", "Asia/Kathmandu", "America/St_Johns", "Europe/Paris", "America/New_York",
         "Australia/Lord_Howe", "America/Santiago", "Pacific/Chatham", "Asia/Kolkata",
         "Africa/Cairo", "Asia/Beirut"]  # fmt: skip
MIN = 60_000
LO = int(datetime(1990, 1, 1, tzinfo=UTC).timestamp()) * 1000
HI = int(datetime(2060, 1, 1, tzinfo=UTC).timestamp()) * 1000


def local_date(ms: int, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(ms / 1000, tz).date()


def first_instant_of(d: date, tz: ZoneInfo) -> int:
    """The first minute whose local date is `d` or later: a 15-minute scan, then minutes.

    Every offset since 1990 is whole minutes, so a day starts on a minute.
    """
    t = int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()) * 1000 - 16 * 3_600_000
    while local_date(t, tz) < d:
        t += 15 * MIN
    back = t - 15 * MIN
    while local_date(back, tz) < d:
        back += MIN
    return back


def expected(kind: PeriodKind, tz: ZoneInfo, ms: int) -> tuple[int, int]:
    d = local_date(ms, tz)
    if kind is PeriodKind.DAY:
        first, after = d, d + timedelta(days=1)
    elif kind is PeriodKind.WEEK:
        first = d - timedelta(days=d.isoweekday() - 1)
        after = first + timedelta(days=7)
    elif kind is PeriodKind.MONTH:
        first = d.replace(day=1)
        after = date(d.year + d.month // 12, d.month % 12 + 1, 1)
    else:
        n = 7 if kind is PeriodKind.ROLLING_7D else 30
        first, after = d - timedelta(days=n - 1), d + timedelta(days=1)
    return first_instant_of(first, tz), first_instant_of(after, tz)


instants = st.integers(LO, HI)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(list(PeriodKind)), st.sampled_from(ZONES), instants)
def test_the_period_is_the_local_days_holding_the_instant(kind: PeriodKind, name: str,
                                                          ms: int) -> None:  # fmt: skip
    tz = ZoneInfo(name)
    got = period_of(kind, tz, ms)
    assert (got.start, got.end) == expected(kind, tz, ms)
    assert got.start <= ms < got.end


def transitions(tz: ZoneInfo) -> list[int]:
    """UTC instants (ms) where the zone's offset changes, 1990-2060, by hourly scan."""
    out, t = [], LO
    prev = datetime.fromtimestamp(t / 1000, tz).utcoffset()
    while t < HI:
        t += 3_600_000
        now = datetime.fromtimestamp(t / 1000, tz).utcoffset()
        if now != prev:
            out.append(t)
        prev = now
    return out


@pytest.mark.parametrize("name", ["Europe/Paris", "America/St_Johns", "America/Santiago",
                                  "Australia/Lord_Howe", "Africa/Cairo"])  # fmt: skip
def test_exact_around_every_offset_change(name: str) -> None:
    """Instants within two hours of each transition, every 15 minutes, for 2020-2030."""
    tz = ZoneInfo(name)
    lo = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp()) * 1000
    hi = int(datetime(2030, 1, 1, tzinfo=UTC).timestamp()) * 1000
    changes = [t for t in transitions(tz) if lo <= t < hi]
    assert changes
    for t in changes:
        for ms in range(t - 2 * 3_600_000, t + 2 * 3_600_000, 15 * MIN):
            for kind in PeriodKind:
                got = period_of(kind, tz, ms)
                assert (got.start, got.end) == expected(kind, tz, ms), (name, ms, kind)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["UTC", "Asia/Kathmandu", "America/St_Johns", "Europe/Paris"]), instants)
def test_rolling_is_the_query_engines_rolling_window_of_a_day_bucket(name: str, ms: int) -> None:
    """Where no day starts in a DST gap, the engine's rolling_<N>d window for the day."""
    tz = ZoneInfo(name)
    for kind, n in ((PeriodKind.ROLLING_7D, 7), (PeriodKind.ROLLING_30D, 30)):
        day = period_of(PeriodKind.DAY, tz, ms)
        [(start, end)] = windows([(day.start, day.end)], n, tz)
        got = period_of(kind, tz, ms)
        assert (got.start, got.end) == (start, end)


def test_an_unknown_kind_names_the_parameter() -> None:
    with pytest.raises(ParamError) as raised:
        period_kind("fortnight")
    assert raised.value.param == "period"
    assert period_kind("rolling_30d") is PeriodKind.ROLLING_30D
