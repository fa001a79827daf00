"""What events add to a limit's usage, and which thresholds a usage has reached.

Pure: the writer folds a commit's events into a `Tally` per (subject, period), the
same way the query engine folds raw events (a `Cell`, or the set of distinct values
for unique counts), so a limit's kept usage equals what the meter's query gives.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from usagekit.core.aggregate import Cell, value_of
from usagekit.core.events import Event
from usagekit.core.limits import Limit
from usagekit.core.meters import Aggregation, Meter
from usagekit.core.numbers import Number


@dataclass(slots=True)
class Tally:
    """A set of events' contribution to one key: a cell, or distinct values."""

    cell: Cell = field(default_factory=Cell)
    values: set[str] = field(default_factory=set)

    def add(self, meter: Meter, seq: int, ev: Event) -> None:
        self.add_part(meter.aggregation, seq, ev.time_ms, part_of(meter, ev))

    def add_part(self, aggregation: Aggregation, seq: int, time_ms: int, part: Part) -> None:
        """Add an event's part (see `part_of`)."""
        if type(part) is str:
            self.values.add(part)
        elif aggregation is Aggregation.COUNT:
            self.cell.add(0, None, time_ms, seq)
        elif isinstance(part, tuple):
            self.cell.add(part[0], part[1], time_ms, seq)

    def remove(self, meter: Meter, ev: Event) -> None:
        """Take a voided event's part out of count and sum (other parts are recounted)."""
        if meter.aggregation is Aggregation.COUNT:
            self.cell.count -= 1
        else:
            num = meter.numeric(ev)
            if num is not None:
                self.cell.count -= 1
                self.cell.nanos -= num[0]


Part = str | tuple[int, float] | None  # a distinct value, or (nanos, float), or nothing


def part_of(meter: Meter, ev: Event) -> Part:
    """What an event adds to a meter's aggregate: read once, whichever limits count it."""
    if meter.aggregation is Aggregation.UNIQUE_COUNT:
        return meter.distinct_value(ev)
    if meter.aggregation is Aggregation.COUNT:
        return None
    return meter.numeric(ev)


def tally(meter: Meter, events: Iterable[tuple[int, Event]]) -> Tally:
    out = Tally()
    for seq, ev in events:
        out.add(meter, seq, ev)
    return out


def subtractable(meter: Meter) -> bool:
    """Whether a void can be taken out of the kept cell (count, sum, avg) or needs a recount."""
    return meter.aggregation in (Aggregation.COUNT, Aggregation.SUM, Aggregation.AVG)


def passes(limit: Limit, meter: Meter, ev: Event) -> bool:
    """Whether the event is within the limit's dimension filter."""
    if not limit.filters:
        return True
    values = dict(zip(meter.dimension_names, meter.dimension_tuple(ev), strict=True))
    return all(values[d] in allowed for d, allowed in limit.filters.items())


def usage_of(cell: Cell, aggregation: Aggregation) -> Number | None:
    return value_of(cell if cell.count else None, aggregation)


def usage_text(usage: Number | None) -> str:
    """A usage as exact text ('' for none): int, float repr or decimal."""
    if usage is None:
        return ""
    return repr(usage) if isinstance(usage, float) else str(usage)


def usage_from_text(text: str) -> Number | None:
    if not text:
        return None
    if text.lstrip("-").isdigit():
        return int(text)
    return Decimal(text)


def cell_list(cell: Cell) -> list[Any]:
    """A cell as JSON values (the sum as text: it may pass 64 bits)."""
    return [cell.count, str(cell.nanos), cell.min, cell.max, cell.last_time, cell.last_seq,
            cell.last]  # fmt: skip


def cell_from_list(values: list[Any]) -> Cell:
    count, nanos, low, high, last_time, last_seq, last = values
    return Cell(count, int(nanos), low, high, last_time, last_seq, last)
