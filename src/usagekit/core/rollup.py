"""Rollup deltas: what a batch of new events adds to each meter's aggregates.

Cells are kept at quarter-hour, hour and day level (UTC-aligned), so any local
hour, day, week or month is a union of whole cells. Unique counts keep, per hour
and per day, each value's first and last time (see windows.decompose_distinct).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from usagekit.core.aggregate import Cell
from usagekit.core.daybits import month_bits
from usagekit.core.events import Event
from usagekit.core.meters import Aggregation, Meter
from usagekit.core.windows import DAY, HOUR, QUARTER

CellKey = tuple[int, int, int, str]  # (meter_id, level, bucket, group_key)
DistinctKey = tuple[int, int, int, str, str]  # (meter_id, level, bucket, group_key, value)
MonthKey = tuple[int, int, str, str]  # (meter_id, month, group_key, value)


@dataclass(slots=True)
class Deltas:
    """Aggregates of a batch of events, ready to be merged into stored rollups."""

    cells: dict[CellKey, Cell] = field(default_factory=dict)
    distinct: dict[DistinctKey, list[int]] = field(default_factory=dict)  # [first, last]
    months: dict[MonthKey, int] = field(default_factory=dict)  # day bits, see core.daybits

    def __bool__(self) -> bool:
        return bool(self.cells or self.distinct)


def compute(meters: Sequence[Meter], events: Iterable[tuple[int, Event]]) -> Deltas:
    """Deltas of (seq, event) pairs for the meters whose event type matches.

    This runs once per ingested event and meter, so it works on plain tuples and
    lists; meters sharing dimensions share one group lookup, and cells and group
    keys are materialised once per batch at the end.
    """
    plans = _plans(meters)
    quarter: dict[tuple[int, int, tuple[str | None, ...]], list[Any]] = {}
    hourly: dict[tuple[int, int, tuple[str | None, ...], str], list[int]] = {}
    for seq, ev in events:
        plan = plans.get(ev.type)
        if plan is None:
            continue
        t = ev.time_ms
        q_bucket = t - t % QUARTER
        for first, same_dims in plan:
            group = first.dimension_tuple(ev)
            for m in same_dims:
                if m.aggregation is Aggregation.UNIQUE_COUNT:
                    value = m.distinct_value(ev)
                    if value is None:
                        continue
                    dkey = (m.id, t - t % HOUR, group, value)
                    span = hourly.get(dkey)
                    if span is None:
                        hourly[dkey] = [t, t]
                    elif t < span[0]:
                        span[0] = t
                    elif t > span[1]:
                        span[1] = t
                    continue
                if m.aggregation is Aggregation.COUNT:
                    nanos, value_f = 0, None
                else:
                    num = m.numeric(ev)
                    if num is None:
                        continue
                    nanos, value_f = num
                key = (m.id, q_bucket, group)
                acc = quarter.get(key)
                if acc is None:
                    quarter[key] = [1, nanos, value_f, value_f, t, seq, value_f]
                    continue
                acc[0] += 1
                acc[1] += nanos
                if value_f is not None:
                    if acc[2] is None or value_f < acc[2]:
                        acc[2] = value_f
                    if acc[3] is None or value_f > acc[3]:
                        acc[3] = value_f
                    if t > acc[4] or (t == acc[4] and seq > acc[5]):
                        acc[4], acc[5], acc[6] = t, seq, value_f
    keys: dict[tuple[str | None, ...], str] = {}

    def key_of(group: tuple[str | None, ...]) -> str:
        text = keys.get(group)
        if text is None:
            text = keys[group] = orjson.dumps(list(group)).decode()
        return text

    cells = {(mid, QUARTER, b, key_of(g)): Cell(*acc) for (mid, b, g), acc in quarter.items()}
    distinct = {(mid, HOUR, b, key_of(g), v): span for (mid, b, g, v), span in hourly.items()}
    daily = _roll_up_distinct(distinct)
    return Deltas(_roll_up_cells(cells), daily, _months(daily))


def _plans(meters: Sequence[Meter]) -> dict[str, list[tuple[Meter, list[Meter]]]]:
    """Per event type: meters grouped by identical dimensions (one lookup serves all)."""
    by_type: dict[str, dict[tuple[tuple[str, str], ...], list[Meter]]] = {}
    for m in meters:
        dims = tuple(sorted(m.dimensions.items()))
        by_type.setdefault(m.event_type, {}).setdefault(dims, []).append(m)
    return {t: [(ms[0], ms) for ms in groups.values()] for t, groups in by_type.items()}


def _roll_up_cells(quarter: dict[CellKey, Cell]) -> dict[CellKey, Cell]:
    out = dict(quarter)
    for level, source in ((HOUR, QUARTER), (DAY, HOUR)):
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


def _months(distinct: dict[DistinctKey, list[int]]) -> dict[MonthKey, int]:
    out: dict[MonthKey, int] = {}
    for mid, level, bucket, group, value in distinct:
        if level == DAY:
            month, bit = month_bits(bucket // DAY)
            key = (mid, month, group, value)
            out[key] = out.get(key, 0) | bit
    return out
