"""Mergeable aggregate state, and how windows and values are read out of it."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from usagekit.core.meters import Aggregation
from usagekit.core.numbers import Number, plain, ratio, to_number


@dataclass(slots=True)
class Cell:
    """Aggregate of a set of events: merges associatively, so rollups compose."""

    count: int = 0
    nanos: int = 0
    min: float | None = None
    max: float | None = None
    last_time: int = -1
    last_seq: int = -1
    last: float | None = None

    def add(self, nanos: int, value: float | None, time_ms: int, seq: int) -> None:
        self.count += 1
        self.nanos += nanos
        if value is not None:
            if self.min is None or value < self.min:
                self.min = value
            if self.max is None or value > self.max:
                self.max = value
            if (time_ms, seq) > (self.last_time, self.last_seq):
                self.last_time, self.last_seq, self.last = time_ms, seq, value

    def merge(self, other: Cell) -> None:
        self.count += other.count
        self.nanos += other.nanos
        if other.min is not None and (self.min is None or other.min < self.min):
            self.min = other.min
        if other.max is not None and (self.max is None or other.max > self.max):
            self.max = other.max
        if other.last is not None and (other.last_time, other.last_seq) > (
            self.last_time,
            self.last_seq,
        ):
            self.last_time, self.last_seq, self.last = other.last_time, other.last_seq, other.last


def value_of(cell: Cell | None, aggregation: Aggregation) -> Number | None:
    """What a bucket reports: 0 for empty sums and counts, None for empty min/max/avg/latest."""
    if aggregation is Aggregation.COUNT:
        return cell.count if cell else 0
    if aggregation is Aggregation.SUM:
        return to_number(cell.nanos) if cell else 0
    if cell is None or cell.count == 0:
        return None
    if aggregation is Aggregation.AVG:
        return ratio(cell.nanos, cell.count)
    if aggregation is Aggregation.MIN:
        return None if cell.min is None else plain(cell.min)
    if aggregation is Aggregation.MAX:
        return None if cell.max is None else plain(cell.max)
    if aggregation is Aggregation.LATEST:
        return None if cell.last is None else plain(cell.last)
    raise ValueError(f"{aggregation} is not a cell aggregation")


def window_cells(cells: list[Cell | None], runs: list[tuple[int, int]]) -> list[Cell | None]:
    """Merge the elementary cells of each window (runs are half-open index ranges)."""
    out: list[Cell | None] = []
    for lo, hi in runs:
        if hi - lo == 1:
            out.append(cells[lo])
            continue
        acc: Cell | None = None
        for cell in cells[lo:hi]:
            if cell is not None:
                if acc is None:
                    acc = Cell()
                acc.merge(cell)
        out.append(acc)
    return out


def window_distinct(presence: dict[str, list[int]], runs: list[tuple[int, int]]) -> list[int]:
    """Distinct values per window, from each value's sorted list of elementary indexes.

    Windows slide forward (both ends non-decreasing), so the windows containing one
    elementary index form a contiguous range; a value counts once per window.
    """
    n = len(runs)
    starts = [lo for lo, _ in runs]
    ends = [hi for _, hi in runs]
    diff = [0] * (n + 1)

    for idxs in presence.values():
        cover_end = -1
        for k in idxs:
            first = bisect.bisect_right(ends, k)  # first window whose end is past k
            last = bisect.bisect_right(starts, k)  # windows before this start at or before k
            first = max(first, cover_end)
            if first < last:
                diff[first] += 1
                diff[last] -= 1
                cover_end = last
    out, running = [], 0
    for i in range(n):
        running += diff[i]
        out.append(running)
    return out
