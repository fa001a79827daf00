"""Per-month day bitmaps: the days of each UTC month a value was seen on.

Each (value, month) keeps a 31-bit word: bit d-1 set when the value was seen on
day d of that UTC month. Queries count them for all values at once (core.day_columns).
"""

from __future__ import annotations

import functools
from datetime import date

EPOCH_DAY = date(1970, 1, 1).toordinal()


def month_of_day(day: int) -> int:
    """Months since 1970-01 of a day number (days since 1970-01-01)."""
    d = date.fromordinal(EPOCH_DAY + day)
    return (d.year - 1970) * 12 + d.month - 1


LAST_DAY = date.max.toordinal() - EPOCH_DAY


@functools.lru_cache(maxsize=4096)
def first_day(month: int) -> int:
    """Day number of the first day of a month index (the day after 9999-12-31 past the end)."""
    if month >= 12 * (10000 - 1970):
        return LAST_DAY + 1
    return date(1970 + month // 12, month % 12 + 1, 1).toordinal() - EPOCH_DAY


def month_bits(day: int) -> tuple[int, int]:
    """(month index, bit) for a day number."""
    d = date.fromordinal(EPOCH_DAY + day)
    return (d.year - 1970) * 12 + d.month - 1, 1 << (d.day - 1)
