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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import eq, itemgetter, ne
from typing import Any

import numpy as np
import numpy.typing as npt

from usagekit.core.month_bitmaps import first_day

Ints = npt.NDArray[np.int64]
_ROWS = 65_536  # rows expanded into active days at a time (bounds the 32-byte-per-row scratch)
# A row's set bits lie within 31 days, never more than 30 apart: for windows of 30 days or
# more, each row is one stretch of activity and `rolling` needs no expansion into days.
WHOLE_ROWS = 30
_MIX = np.int64(-0x61C8864680B583EB)  # odd 64-bit constant: spreads group indexes over the bits


@dataclass(frozen=True, slots=True)
class MonthColumns:
    """A query's month rows, one per (key, month), keys ascending and months within them."""

    key: Ints  # per row: the (group, value) it belongs to, 0..len(key_group)-1
    month: Ints  # per row: months since 1970-01
    days: Ints  # per row: day bits of that month (never 0)
    key_group: Ints  # per key: its output group's index
    key_row: Ints  # per key: the position of its value in `values`
    values: list[str]  # every row's value, as read

    @staticmethod
    def load(
        chunks: Iterable[Sequence[tuple[int, str, int]]],
        group_of: dict[int, int],
        one_to_one: bool,
    ) -> MonthColumns:
        """Columns from (group id, value, month << 32 | bits) rows ordered by group, value, month.

        `group_of` maps stored group ids to output group indexes (rows of other ids are
        dropped). When it is one to one, a key's rows are consecutive already and a new
        key starts where the group or the value changes; otherwise the rows of a value in
        several stored groups of one output group are sorted together and merged.
        """
        values: list[str] = []
        parts: list[list[Ints]] = []
        for chunk in chunks:
            n = len(chunk)
            parts.append([np.fromiter(map(itemgetter(i), chunk), np.int64, n) for i in (0, 2)])
            values += map(itemgetter(1), chunk)
        if not values:
            empty = np.zeros(0, dtype=np.int64)
            return MonthColumns(empty, empty, empty, empty, empty, [])
        gid, packed = (np.concatenate(cols) for cols in zip(*parts, strict=True))
        month, days = packed >> 32, packed & 0xFFFFFFFF
        lookup = np.full(max([int(gid.max()), *group_of]) + 1, -1, dtype=np.int64)
        lookup[list(group_of)] = list(group_of.values())
        group = lookup[gid]
        keep = (group >= 0) & (days != 0)
        if not keep.all():
            group, month, days = group[keep], month[keep], days[keep]
            values = list(map(values.__getitem__, np.flatnonzero(keep).tolist()))
        row = np.arange(len(values))
        if one_to_one:
            new_key = _starts(group)
            new_key[1:] |= np.fromiter(map(ne, values[1:], values), np.bool_, len(values) - 1)
        else:
            # Sort by (group and value's hash, month) in one argsort; a key's rows end up
            # together. Rows that share a hash must share group and value, else (two values
            # with one hash: rare) sort again by exact codes.
            m0 = int(month.min()) if len(month) else 0
            width = max(int(month.max(initial=m0)) - m0, 1).bit_length()
            code = (_codes(values) ^ (group * _MIX)) << width
            order = np.argsort(code | (month - m0))
            group, code, month, days, row = (a[order] for a in (group, code, month, days, row))
            new_key = _starts(code)
            if not _same_values(values, group, row, new_key):
                code = _codes(values, exact=True)[row]
                order = np.lexsort((month, code, group))
                group, code, month, days, row = (a[order] for a in (group, code, month, days, row))
                new_key = _starts(group) | _starts(code)
            heads = np.flatnonzero(new_key | _starts(month))
            new_key, month, row = new_key[heads], month[heads], row[heads]
            group, days = group[heads], np.bitwise_or.reduceat(days, heads)
        key = np.cumsum(new_key) - 1
        return MonthColumns(key, month, days, group[new_key], row[new_key], values)

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

    def key_values(self, keys: Ints) -> Iterator[str]:
        """The values of these keys."""
        return map(self.values.__getitem__, self.key_row[keys].tolist())

    def day_spans(self, day0: int) -> tuple[Ints, Ints]:
        """Each row's first and last active day, as days since day0."""
        base = _month_starts(self.month)[0] - day0
        first = np.bitwise_count((self.days & -self.days) - 1).astype(np.int64)
        last = np.frexp(self.days.astype(np.float64))[1].astype(np.int64) - 1  # exact < 2**53
        return base + first, base + last

    def month_to_date(self, groups: int, first_end: int, n: int) -> Ints:
        """Counts per group of windows i < n, each from the 1st of its month to day first_end+i."""
        first, _ = self.day_spans(first_end)
        stop = _month_starts(self.month)[1] - first_end
        return _tally(self.key_group[self.key], first, stop, groups, n)

    def keys_within(self, day0: int, lo: int, hi: int) -> Ints:
        """The keys active on some day in [lo, hi) days since day0."""
        base = _month_starts(self.month)[0] - day0
        a, b = np.clip(lo - base, 0, 32), np.clip(hi - base, 0, 32)
        mask: Ints = np.left_shift(1, b) - np.left_shift(1, a)
        hit: Ints = self.key[(self.days & mask) != 0]
        first: Ints = hit[_starts(hit)]
        return first


def rolling(
    keys: Ints,
    first: Ints,
    last: Ints,
    key_group: Ints,
    groups: int,
    span: int,
    offset: int,
    n: int,
) -> Ints:
    """Counts per group of windows i < n, each the `span` days ending on day offset+i.

    Each item is a stretch of a key's activity from day `first` to day `last`, ordered by
    key and day, with no gap of more than `span` days inside: a day of `active_days`, or
    (span >= WHOLE_ROWS) a month row's `day_spans`. A key's items become runs
    [first, last + span) of covered window ends, merged where they touch.
    """
    if not len(keys):
        return np.zeros((groups, n), dtype=np.int64)
    new_run = _starts(keys)
    new_run[1:] |= first[1:] - last[:-1] > span
    run_end = np.empty_like(new_run)
    run_end[:-1] = new_run[1:]
    run_end[-1] = True
    start = first[new_run] - offset
    stop = last[run_end] + span - offset
    return _tally(key_group[keys[new_run]], start, stop, groups, n)


def _codes(values: list[str], exact: bool = False) -> Ints:
    """A number per value, equal for equal values: its hash, or (exact) its first position."""
    if exact:
        first: dict[str, int] = {}
        return np.fromiter(map(first.setdefault, values, itertools.count()), np.int64, len(values))
    return np.fromiter(map(hash, values), np.int64, len(values))


def _same_values(values: list[str], group: Ints, row: Ints, new_key: npt.NDArray[np.bool_]) -> bool:
    """Whether rows (ordered by code) that share a code with the row before share its group
    and value."""
    inner = np.flatnonzero(~new_key)
    if not (group[inner] == group[inner - 1]).all():
        return False
    later = map(values.__getitem__, row[inner].tolist())
    earlier = map(values.__getitem__, row[inner - 1].tolist())
    return all(map(eq, later, earlier))


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
