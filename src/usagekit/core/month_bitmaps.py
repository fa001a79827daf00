"""Unique counts over whole UTC days from per-month day bitmaps.

Each (value, month) keeps a 31-bit word: bit d-1 set when the value was seen on
day d of that UTC month. Laid end to end they give a value's activity as one
integer, on which a rolling window is a few shifts (coverage = OR of the bitmap
shifted 0..N-1 days) and only the edges of covered runs are counted, so the cost
per value does not grow with the number of days it was active.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
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


def spread(words: Iterable[tuple[int, int]], day0: int) -> int:
    """One value's (month, bits) rows as a bitmap of days, bit 0 = day0 (earlier days dropped)."""
    out = 0
    for month, bits in words:
        shift = first_day(month) - day0
        out |= bits << shift if shift >= 0 else bits >> -shift
    return out


def cover(bitmap: int, span: int) -> int:
    """Bit i set when any of bits i-span+1..i is set (a trailing window of `span` days)."""
    covered, width = bitmap, 1
    while width * 2 <= span:
        covered |= covered << width
        width *= 2
    if width < span:
        covered |= covered << (span - width)
    return covered


def add_runs(diff: list[int], covered: int, lo: int, hi: int) -> None:
    """Add 1 to diff over every run of set bits of `covered` within [lo, hi) (difference array)."""
    covered = (covered >> lo) & ((1 << (hi - lo)) - 1)
    edges = covered ^ (covered << 1)
    while edges:
        start = (edges & -edges).bit_length() - 1
        edges &= edges - 1
        end = (edges & -edges).bit_length() - 1
        edges &= edges - 1
        diff[start] += 1
        diff[end] -= 1


def rolling_counts(bitmaps: Iterable[int], days: int, span: int, offset: int) -> list[int]:
    """Distinct values per window: window i ends after day offset+i and spans `span` days."""
    diff = [0] * (days + 1)
    for bitmap in bitmaps:
        add_runs(diff, cover(bitmap, span), offset, offset + days)
    return _running(diff, days)


def month_to_date_counts(rows: Iterable[tuple[int, int]], day0: int, days: int) -> list[int]:
    """Distinct values per day d in [day0, day0+days): seen from the 1st of d's month up to d.

    `rows` are every (month, bits) row of every value, each row counted on its own:
    a value counts from its first day in a month to that month's end.
    """
    diff = [0] * (days + 1)
    for month, bits in rows:
        start = first_day(month) + (bits & -bits).bit_length() - 1 - day0
        stop = first_day(month + 1) - day0
        start, stop = max(start, 0), min(stop, days)
        if start < stop:
            diff[start] += 1
            diff[stop] -= 1
    return _running(diff, days)


def _running(diff: list[int], n: int) -> list[int]:
    out, total = [], 0
    for i in range(n):
        total += diff[i]
        out.append(total)
    return out
