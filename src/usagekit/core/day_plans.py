"""How day windows are answered from per-value day bitmaps (core.month_bitmaps).

Windows of whole UTC days ending on consecutive days are counted together by the
bitmap scans. Any other window (a `to` of "now", a `from` mid-day) is split into
the whole UTC days inside it, a mask over the same bitmaps, and the partial-day
edges around them, answered from distinct rows; a value counts once if seen in
either, so a window's count is |days| + |edges| - |days and edges|.
"""

from __future__ import annotations

from dataclasses import dataclass

from usagekit.core.month_bitmaps import LAST_DAY, first_day, month_of_day
from usagekit.core.windows import DAY

# Windows off the whole-day pattern are tested value by value: past a few (other
# zones, where no day window is UTC-aligned), the general path is the cheaper one.
MAX_PARTIAL = 4


@dataclass(frozen=True, slots=True)
class Partial:
    """A window not counted by the scans: its whole UTC days and its partial-day edges."""

    index: int  # position among the query's windows
    mask: int  # its whole UTC days, as bits of a bitmap starting at DayPlan.day0
    edges: tuple[tuple[int, int], ...]  # [lo, hi) ms pieces of partial days


@dataclass(frozen=True, slots=True)
class DayPlan:
    """Which windows the bitmap scans count, which are partial, and the days bitmaps need."""

    day0: int  # day number of bit 0 of every bitmap
    stop: int  # day after the last one any window needs (day0 when none)
    regular: range  # windows of whole days, ending on consecutive days
    first_end: int  # last day of the first regular window
    partial: tuple[Partial, ...]

    @property
    def has_edges(self) -> bool:
        return any(p.edges for p in self.partial)


def whole_days(lo: int, hi: int) -> tuple[int, int]:
    """The UTC days [first, stop) lying wholly inside [lo, hi) ms (first >= stop: none).

    Days past 9999-12-31 (open-ended totals) are left to the edges: no event is there.
    """
    return -(-lo // DAY), min(hi // DAY, LAST_DAY + 1)


def plan_days(wins: list[tuple[int, int]], aggregation_type: int | str) -> DayPlan | None:
    """The plan for these windows, or None when too many fall outside the whole-day pattern."""
    span = 1 if aggregation_type == "incremental" else aggregation_type

    def scanned(lo: int, hi: int) -> bool:
        if lo % DAY or hi % DAY:
            return False
        if isinstance(span, int):
            return hi - lo == span * DAY
        return lo // DAY == first_day(month_of_day(hi // DAY - 1))

    picked = [i for i, (lo, hi) in enumerate(wins) if scanned(lo, hi)]
    regular = range(picked[0], picked[-1] + 1) if picked else range(0)
    ends = [wins[i][1] // DAY for i in regular]
    if len(picked) != len(regular) or (ends and ends != list(range(ends[0], ends[0] + len(ends)))):
        return None
    others = [i for i in range(len(wins)) if i not in regular]
    if len(others) > MAX_PARTIAL:
        return None
    inner = {i: whole_days(*wins[i]) for i in others}
    spans = [(wins[i][0] // DAY, wins[i][1] // DAY) for i in regular]
    spans += [(a, b) for a, b in inner.values() if a < b]
    day0 = min((a for a, _ in spans), default=0)
    stop = max((b for _, b in spans), default=day0)
    partial = []
    for i in others:
        lo, hi = wins[i]
        a, b = inner[i]
        if a < b:
            mask = ((1 << (b - a)) - 1) << (a - day0)
            cut = ((lo, a * DAY), (b * DAY, hi))
            partial.append(Partial(i, mask, tuple((x, y) for x, y in cut if x < y)))
        else:
            partial.append(Partial(i, 0, ((lo, hi),)))
    first_end = ends[0] - 1 if ends else day0
    return DayPlan(day0, stop, regular, first_end, tuple(partial))
