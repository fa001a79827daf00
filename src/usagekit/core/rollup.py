"""Rollup deltas: what a batch of new events adds to each meter's aggregates.

Cells are kept at minute, hour and day level (UTC-aligned), so any local bucket
with minute-aligned edges is a union of whole cells. Unique counts keep, per hour
and per day, each value's first and last time (see windows.decompose_distinct).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from usagekit.core.aggregate import Cell
from usagekit.core.events import Event
from usagekit.core.meters import Aggregation, Meter
from usagekit.core.windows import DAY, HOUR, MINUTE

CellKey = tuple[int, int, int, str]  # (meter_id, level, bucket, group_key)
DistinctKey = tuple[int, int, int, str, str]  # (meter_id, level, bucket, group_key, value)


@dataclass(slots=True)
class Deltas:
    """Aggregates of a batch of events, ready to be merged into stored rollups."""

    cells: dict[CellKey, Cell] = field(default_factory=dict)
    distinct: dict[DistinctKey, list[int]] = field(default_factory=dict)  # [first, last]

    def __bool__(self) -> bool:
        return bool(self.cells or self.distinct)


def compute(meters: Sequence[Meter], events: Iterable[tuple[int, Event]]) -> Deltas:
    """Deltas of (seq, event) pairs for the meters whose event type matches."""
    by_type: dict[str, list[Meter]] = {}
    for m in meters:
        by_type.setdefault(m.event_type, []).append(m)
    minute: dict[CellKey, Cell] = {}
    hourly: dict[DistinctKey, list[int]] = {}
    for seq, ev in events:
        for m in by_type.get(ev.type, ()):
            group = m.group_key(ev)
            if m.aggregation is Aggregation.UNIQUE_COUNT:
                value = m.distinct_value(ev)
                if value is None:
                    continue
                dkey = (m.id, HOUR, ev.time_ms - ev.time_ms % HOUR, group, value)
                span = hourly.get(dkey)
                if span is None:
                    hourly[dkey] = [ev.time_ms, ev.time_ms]
                elif ev.time_ms < span[0]:
                    span[0] = ev.time_ms
                elif ev.time_ms > span[1]:
                    span[1] = ev.time_ms
                continue
            if m.aggregation is Aggregation.COUNT:
                nanos, value_f = 0, None
            else:
                num = m.numeric(ev)
                if num is None:
                    continue
                nanos, value_f = num
            key = (m.id, MINUTE, ev.time_ms - ev.time_ms % MINUTE, group)
            cell = minute.get(key)
            if cell is None:
                cell = minute[key] = Cell()
            cell.add(nanos, value_f, ev.time_ms, seq)
    return Deltas(_roll_up_cells(minute), _roll_up_distinct(hourly))


def _roll_up_cells(minute: dict[CellKey, Cell]) -> dict[CellKey, Cell]:
    out = dict(minute)
    for level, source in ((HOUR, MINUTE), (DAY, HOUR)):
        for (mid, lvl, bucket, group), cell in list(out.items()):
            if lvl != source:
                continue
            key = (mid, level, bucket - bucket % level, group)
            target = out.get(key)
            if target is None:
                target = out[key] = Cell()
            target.merge(cell)
    return out


def _roll_up_distinct(hourly: dict[DistinctKey, list[int]]) -> dict[DistinctKey, list[int]]:
    out = dict(hourly)
    for (mid, _, bucket, group, value), (first, last) in hourly.items():
        key = (mid, DAY, bucket - bucket % DAY, group, value)
        span = out.get(key)
        if span is None:
            out[key] = [first, last]
        else:
            span[0] = min(span[0], first)
            span[1] = max(span[1], last)
    return out
