"""The period of a limit that holds an instant: calendar days, ISO weeks, months, or
the N local days ending with the instant's day (rolling), in any IANA zone.

Edges are local midnights as UTC instants, found as the query engine finds its day,
week and month buckets (`core.windows.floor` / `next_edge`), so a limit's usage over
its period is a query over whole local days, exact at DST changes and for zones with
30- and 45-minute offsets.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from usagekit.core.errors import ParamError
from usagekit.core.windows import Granularity, floor, next_edge


class PeriodKind(StrEnum):
    DAY = "day"
    WEEK = "week"  # ISO: from Monday 00:00 local
    MONTH = "month"  # from the 1st, 00:00 local
    ROLLING_7D = "rolling_7d"
    ROLLING_30D = "rolling_30d"


CALENDAR = {
    PeriodKind.DAY: Granularity.DAY,
    PeriodKind.WEEK: Granularity.WEEK,
    PeriodKind.MONTH: Granularity.MONTH,
}
ROLLING_DAYS = {PeriodKind.ROLLING_7D: 7, PeriodKind.ROLLING_30D: 30}


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) in Unix ms."""

    start: int
    end: int


def period_kind(value: str, param: str = "period") -> PeriodKind:
    """day, week, month, rolling_7d or rolling_30d; ParamError naming `param` otherwise."""
    try:
        return PeriodKind(value)
    except ValueError:
        allowed = ", ".join(k.value for k in PeriodKind)
        raise ParamError(f"{param}: must be one of {allowed}", param) from None


def period_of(kind: PeriodKind, tz: ZoneInfo, ms: int) -> Period:
    """The period of `kind` in zone `tz` that contains the instant `ms`.

    Calendar periods start at the local midnight opening the day, the Monday or the
    1st. A rolling period is the N local days ending with the instant's own day:
    [midnight of day - N + 1, midnight of day + 1).
    """
    granularity = CALENDAR.get(kind)
    if granularity is not None:
        start = floor(ms, granularity, tz)
        return Period(start, next_edge(start, granularity, tz))
    day = floor(ms, Granularity.DAY, tz)
    end = next_edge(day, Granularity.DAY, tz)
    start = day
    for _ in range(ROLLING_DAYS[kind] - 1):
        start = floor(start - 1, Granularity.DAY, tz)
    return Period(start, end)
