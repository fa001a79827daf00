"""Rollup deltas: what a batch of new events adds to each meter's aggregates.

Cells are kept at quarter-hour, hour and day level (UTC-aligned), so any local
hour, day, week or month is a union of whole cells. Unique counts keep, per hour
and per day, each value's first and last time (see windows.decompose_distinct).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from usagekit.core.aggregate import Cell
from usagekit.core.events import Event
from usagekit.core.meters import Aggregation, Meter
from usagekit.core.month_bitmaps import month_bits
from usagekit.core.numbers import NANO
from usagekit.core.windows import DAY, HOUR, QUARTER

CellKey = tuple[int, int, int, str]  # (meter_id, level, bucket, group_key)
DistinctKey = tuple[int, int, int, str, str]  # (meter_id, level, bucket, group_key, value)
MonthKey = tuple[int, int, str, str]  # (meter_id, month, group_key, value)
Group = tuple[str | None, ...]
Members = list[tuple[int, Event]]  # the (seq, event) pairs of one quarter and group
_SMALL = 2**62  # integers below this add up exactly as they are (see Meter.nanos)


@dataclass(slots=True)
class Deltas:
    """Aggregates of a batch of events, ready to be merged into stored rollups."""

    cells: dict[CellKey, Cell] = field(default_factory=dict)
    distinct: dict[DistinctKey, list[int]] = field(default_factory=dict)  # [first, last]
    months: dict[MonthKey, int] = field(default_factory=dict)  # day bits, see core.month_bitmaps

    def __bool__(self) -> bool:
        return bool(self.cells or self.distinct)

    def merge(self, other: Deltas, seq_offset: int = 0) -> None:
        """Add another batch's deltas (consumed), its event seqs moved on by `seq_offset`.

        Deltas computed before the events had seqs (ingest.prepare numbers rows
        from 1) take their real seqs here: only `latest` looks at them.
        """
        if seq_offset:
            for cell in other.cells.values():
                if cell.last is not None:
                    cell.last_seq += seq_offset
        if not self:
            self.cells, self.distinct, self.months = other.cells, other.distinct, other.months
            return
        cells = self.cells
        for key, cell in other.cells.items():
            mine = cells.get(key)
            if mine is None:
                cells[key] = cell
            else:
                mine.merge(cell)
        for dkey, (first, last) in other.distinct.items():
            _widen(self.distinct, dkey, first, last)
        months = self.months
        for mkey, bits in other.months.items():
            months[mkey] = months.get(mkey, 0) | bits

    def __getstate__(self) -> object:
        """Cells as plain tuples: deltas cross a process boundary with every ingest body."""
        cells = {k: (c.count, c.nanos, c.min, c.max, c.last_time, c.last_seq, c.last)
                 for k, c in self.cells.items()}  # fmt: skip
        return cells, self.distinct, self.months

    def __setstate__(self, state: tuple[dict[CellKey, tuple[Any, ...]], Any, Any]) -> None:
        cells, self.distinct, self.months = state
        self.cells = {k: Cell(*v) for k, v in cells.items()}


def compute(meters: Sequence[Meter], events: Iterable[tuple[int, Event]]) -> Deltas:
    """Deltas of (seq, event) pairs for the meters whose event type matches.

    This runs for every ingested event, so each event is read once: bucketed by
    quarter and by every dimension any meter of its type groups by. Each meter
    then folds the buckets, projected onto its own dimensions, with only the
    work its aggregation needs (a sum keeps no min, max or latest).
    """
    plans = _plans(meters)
    for item in events:
        ev = item[1]
        plan = plans.get(ev.type)
        if plan is None:
            continue
        t = ev.time_ms
        key = (t - t % QUARTER, plan.reader.dimension_tuple(ev))
        members = plan.buckets.get(key)
        if members is None:
            plan.buckets[key] = [item]
        else:
            members.append(item)
    keys: dict[Group, str] = {}
    quarter: dict[CellKey, Cell] = {}
    hourly: dict[DistinctKey, list[int]] = {}
    for plan in plans.values():
        for (q, values), members in plan.buckets.items():
            for positions, same_dims in plan.groups:
                group = tuple([values[i] for i in positions])
                gkey = keys.get(group)
                if gkey is None:
                    gkey = keys[group] = orjson.dumps(list(group)).decode()
                for m in same_dims:
                    if m.aggregation is Aggregation.UNIQUE_COUNT:
                        _spans(m, q - q % HOUR, gkey, members, hourly)
                        continue
                    cell = _FOLD[m.aggregation](m, members)
                    if cell is None:
                        continue
                    ckey = (m.id, QUARTER, q, gkey)
                    have = quarter.get(ckey)
                    if have is None:
                        quarter[ckey] = cell
                    else:
                        have.merge(cell)
    daily = _roll_up_distinct(hourly)
    return Deltas(_roll_up_cells(quarter), daily, _months(daily))


@dataclass(slots=True)
class _TypePlan:
    """How one event type's events are bucketed, and which meters read the buckets."""

    reader: Meter  # reads every dimension path that some meter of the type groups by
    groups: list[tuple[tuple[int, ...], list[Meter]]]  # (positions in its values, meters)
    buckets: dict[tuple[int, Group], Members] = field(default_factory=dict)


def _plans(meters: Sequence[Meter]) -> dict[str, _TypePlan]:
    """Per event type: one reader of all dimensions, and meters grouped by their dimensions."""
    by_type: dict[str, dict[tuple[tuple[str, str], ...], list[Meter]]] = {}
    for m in meters:
        dims = tuple(sorted(m.dimensions.items()))  # dimension_names order
        by_type.setdefault(m.event_type, {}).setdefault(dims, []).append(m)
    plans = {}
    for event_type, groups in by_type.items():
        paths = sorted({path for dims in groups for _, path in dims})
        at = {path: i for i, path in enumerate(paths)}
        reader = Meter("_reader", event_type, Aggregation.COUNT, None, {p: p for p in paths})
        plans[event_type] = _TypePlan(
            reader, [(tuple(at[path] for _, path in dims), same) for dims, same in groups.items()]
        )
    return plans


def _count(meter: Meter, members: Members) -> Cell:
    return Cell(len(members))


def _additive(meter: Meter, members: Members) -> Cell | None:
    """Count and exact sum of the numeric values (sum and avg need nothing else)."""
    count = units = nanos = 0
    key = meter.value_key
    for _, ev in members:
        raw = ev.data.get(key) if key is not None else meter.raw_value(ev)
        if raw is None:
            continue
        if type(raw) is int and -_SMALL < raw < _SMALL:
            units += raw
            count += 1
        else:
            exact = meter.nanos(ev)
            if exact is not None:
                nanos += exact
                count += 1
    return Cell(count, units * NANO + nanos) if count else None


def _full(meter: Meter, members: Members) -> Cell | None:
    """Every part of a cell: min, max and latest need the values themselves."""
    cell = Cell()
    for seq, ev in members:
        num = meter.numeric(ev)
        if num is not None:
            cell.add(num[0], num[1], ev.time_ms, seq)
    return cell if cell.count else None


_FOLD: dict[Aggregation, Callable[[Meter, Members], Cell | None]] = {
    Aggregation.COUNT: _count,
    Aggregation.SUM: _additive,
    Aggregation.AVG: _additive,
    Aggregation.MIN: _full,
    Aggregation.MAX: _full,
    Aggregation.LATEST: _full,
}


def _spans(
    meter: Meter, hour: int, gkey: str, members: Members, out: dict[DistinctKey, list[int]]
) -> None:
    """Each distinct value's first and last time within the hour."""
    for _, ev in members:
        value = meter.distinct_value(ev)
        if value is None:
            continue
        t = ev.time_ms
        key = (meter.id, HOUR, hour, gkey, value)
        span = out.get(key)
        if span is None:
            out[key] = [t, t]
        elif t < span[0]:
            span[0] = t
        elif t > span[1]:
            span[1] = t


def _roll_up_cells(quarter: dict[CellKey, Cell]) -> dict[CellKey, Cell]:
    """Quarter cells plus the hour and day cells they add up to."""
    out = dict(quarter)
    source = quarter
    for level in (HOUR, DAY):
        merged: dict[CellKey, Cell] = {}
        for (mid, _, bucket, group), cell in source.items():
            key = (mid, level, bucket - bucket % level, group)
            target = merged.get(key)
            if target is None:
                merged[key] = target = Cell()
            target.merge(cell)
        out.update(merged)
        source = merged
    return out


def _roll_up_distinct(hourly: dict[DistinctKey, list[int]]) -> dict[DistinctKey, list[int]]:
    out = dict(hourly)
    for (mid, _, bucket, group, value), (first, last) in hourly.items():
        _widen(out, (mid, DAY, bucket - bucket % DAY, group, value), first, last)
    return out


def _widen(spans: dict[DistinctKey, list[int]], key: DistinctKey, first: int, last: int) -> None:
    """Make a value's [first, last] span in a bucket cover [first, last] too."""
    span = spans.get(key)
    if span is None:
        spans[key] = [first, last]
    else:
        span[0] = min(span[0], first)
        span[1] = max(span[1], last)


def _months(distinct: dict[DistinctKey, list[int]]) -> dict[MonthKey, int]:
    out: dict[MonthKey, int] = {}
    for mid, level, bucket, group, value in distinct:
        if level == DAY:
            month, bit = month_bits(bucket // DAY)
            key = (mid, month, group, value)
            out[key] = out.get(key, 0) | bit
    return out
