"""Unique counts over whole UTC days for every value at once: numpy over the month rows.

The per-month day bitmaps (core.month_bitmaps) of a query arrive as columns: one row
per (value, month) with a key naming the (output group, value) it belongs to. Month-to-date
counts need only each row's first day; rolling counts expand the rows into each key's
active days and turn them into runs of covered days (a value is in a window of N days
ending on day d when it was active in (d - N, d]), added up in a difference array per
group. No step loops over values in Python, so the cost is a few passes over the rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from usagekit.core.month_bitmaps import first_day

Ints = npt.NDArray[np.int64]
_ROWS = 65_536  # rows expanded into active days at a time (bounds the 32-byte-per-row scratch)


@dataclass(frozen=True, slots=True)
class MonthColumns:
    """A query's month rows, one per (key, month), keys ascending and months within them."""

    key: Ints  # per row: the (group, value) it belongs to, 0..len(key_group)-1
    month: Ints  # per row: months since 1970-01
    days: Ints  # per row: day bits of that month (never 0)
    key_group: Ints  # per key: its output group's index
    key_code: Ints  # per key: its value's code (see `codes`)
    codes: dict[str, int]  # value -> code

    @staticmethod
    def load(
        chunks: Iterable[Sequence[tuple[int, str, int, int]]],
        group_of: dict[int, int],
        one_to_one: bool,
    ) -> MonthColumns:
        """Columns from (group id, value, month, bits) rows ordered by group id, value, month.

        `group_of` maps stored group ids to output group indexes (rows of other ids are
        dropped). When it is one to one, a key's rows are consecutive already; otherwise
        the rows of a value in several stored groups of one output group are merged.
        """
        codes: dict[str, int] = {}
        counter = itertools.count()
        parts: list[tuple[Ints, Ints, Ints, Ints]] = []
        lookup = np.full(max(group_of, default=0) + 1, -1, dtype=np.int64)
        for gid, index in group_of.items():
            lookup[gid] = index
        for chunk in chunks:
            if not chunk:
                continue
            gids, values, months, bits = zip(*chunk, strict=True)
            gid_arr = np.array(gids, dtype=np.int64)
            inside = gid_arr < len(lookup)
            group = np.where(inside, lookup[np.where(inside, gid_arr, 0)], -1)
            code = np.fromiter(
                map(codes.setdefault, values, counter), dtype=np.int64, count=len(values)
            )
            parts.append((group, code, np.array(months, np.int64), np.array(bits, np.int64)))
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return MonthColumns(empty, empty, empty, empty, empty, codes)
        group, code, month, days = (np.concatenate(cols) for cols in zip(*parts, strict=True))
        keep = (group >= 0) & (days != 0)
        group, code, month, days = group[keep], code[keep], month[keep], days[keep]
        width = int(code.max(initial=0)) + 1
        compound = group * width + code
        if not one_to_one:
            order = np.lexsort((month, compound))
            compound, month, days = compound[order], month[order], days[order]
            same = _starts(compound) | _starts(month)
            heads = np.flatnonzero(same)
            compound, month = compound[heads], month[heads]
            days = np.bitwise_or.reduceat(days, heads) if len(heads) else days
        new_key = _starts(compound)
        key = np.cumsum(new_key) - 1
        head = compound[new_key]
        return MonthColumns(key, month, days, head // width, head % width, codes)

    def active_days(self, day0: int, stop: int) -> tuple[Ints, Ints]:
        """Every (key, day - day0) with the value seen that day, for days in [day0, stop).

        Ordered by key, then day: rows are ordered by key and month, bits by day.
        """
        if not len(self.key):
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        m0 = int(self.month.min())
        starts = np.array(
            [first_day(m) - day0 for m in range(m0, int(self.month.max()) + 1)], dtype=np.int64
        )
        keys, days = [], []
        for lo in range(0, len(self.key), _ROWS):
            bits = self.days[lo : lo + _ROWS].astype("<u4")
            table = np.unpackbits(bits.view(np.uint8).reshape(-1, 4), axis=1, bitorder="little")
            row, bit = np.nonzero(table)
            row += lo
            day = starts[self.month[row] - m0] + bit
            inside = (day >= 0) & (day < stop - day0)
            keys.append(self.key[row[inside]])
            days.append(day[inside])
        return np.concatenate(keys), np.concatenate(days)

    def month_to_date(self, groups: int, first_end: int, n: int) -> Ints:
        """Counts per group of windows i < n, each from the 1st of its month to day first_end+i."""
        low = self.days & -self.days
        first = np.bitwise_count(low - 1).astype(np.int64)
        month_start = _month_starts(self.month)
        start = month_start[0] + first - first_end
        stop = month_start[1] - first_end
        return _tally(self.key_group[self.key], start, stop, groups, n)


def rolling(
    keys: Ints, days: Ints, key_group: Ints, groups: int, span: int, offset: int, n: int
) -> Ints:
    """Counts per group of windows i < n, each the `span` days ending on day offset+i.

    `keys` and `days` are active days ordered by key and day (MonthColumns.active_days). A
    key's days become runs [a, b + span) of covered window ends, merged where they touch.
    """
    if not len(keys):
        return np.zeros((groups, n), dtype=np.int64)
    new_run = _starts(keys)
    new_run[1:] |= np.diff(days) > span
    run_end = np.empty_like(new_run)
    run_end[:-1] = new_run[1:]
    run_end[-1] = True
    start = days[new_run] - offset
    stop = days[run_end] + span - offset
    return _tally(key_group[keys[new_run]], start, stop, groups, n)


def keys_within(keys: Ints, days: Ints, lo: int, hi: int) -> Ints:
    """The distinct keys active on some day in [lo, hi) (days as from MonthColumns.active_days)."""
    return np.unique(keys[(days >= lo) & (days < hi)])


def _starts(a: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """True where an element differs from the one before it (and at the first)."""
    out = np.ones(len(a), dtype=np.bool_)
    if len(a):
        out[1:] = a[1:] != a[:-1]
    return out


def _month_starts(month: Ints) -> tuple[Ints, Ints]:
    """First day of each row's month and of the month after."""
    if not len(month):
        return month, month
    m0 = int(month.min())
    table = np.array([first_day(m) for m in range(m0, int(month.max()) + 2)], dtype=np.int64)
    return table[month - m0], table[month - m0 + 1]


def _tally(group: Ints, start: Ints, stop: Ints, groups: int, n: int) -> Ints:
    """Per group, how many [start, stop) ranges cover each of 0..n-1 (a difference array)."""
    lo, hi = np.clip(start, 0, n), np.clip(stop, 0, n)
    keep = lo < hi
    base = group[keep] * (n + 1)
    size = groups * (n + 1)
    diff = np.bincount(base + lo[keep], minlength=size) - np.bincount(
        base + hi[keep], minlength=size
    )
    return np.cumsum(diff.reshape(groups, n + 1), axis=1)[:, :n]
