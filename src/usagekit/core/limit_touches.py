"""Which (subject, period) keys a commit's events move for one limit, and by how much.

Pure, and hot: it runs for every event and every limit on its meter. Each event's
subject, time, dimensions and part are read once per meter (`MeterRows`); each
limit then walks those columns with a period looked up once per UTC hour, and
counts and sums (the common limits) add two integers per event instead of folding
a whole `Cell`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from usagekit.core.aggregate import Cell
from usagekit.core.events import Event
from usagekit.core.limit_periods import ROLLING_DAYS, Period, period_of
from usagekit.core.limit_tally import Part, Tally, part_of
from usagekit.core.limits import Limit, Scope
from usagekit.core.meters import Aggregation, Meter
from usagekit.core.windows import HOUR, WindowError, zone

Key = tuple[str, int]  # (subject, or '' for a tenant-wide limit; period start)
Items = Sequence[tuple[int, Event]]  # (seq, event)
# Aggregations whose kept usage needs only the count and the exact sum of the cell.
ADDITIVE = frozenset({Aggregation.COUNT, Aggregation.SUM, Aggregation.AVG})
Ints = npt.NDArray[np.int64]
_BIG = 2**62  # values below this split into two 32-bit halves that sum in 64 bits


@dataclass(slots=True)
class Touch:
    """What a commit does to one key: its period, what it adds, or what it voids."""

    period: Period
    tally: Tally = field(default_factory=Tally)
    events: list[Event] = field(default_factory=list)  # voided ones, for subtraction


@dataclass(slots=True)
class MeterRows:
    """A meter's events of one commit as columns, read once for all of its limits."""

    seqs: list[int]
    events: list[Event]
    dims: list[tuple[str | None, ...]]
    parts: list[Part]
    _arrays: _Arrays | None = None

    @classmethod
    def read(cls, meter: Meter, items: Items) -> MeterRows:
        mine = [(seq, ev) for seq, ev in items if ev.type == meter.event_type]
        return cls(
            [seq for seq, _ in mine],
            [ev for _, ev in mine],
            [meter.dimension_tuple(ev) for _, ev in mine],
            [part_of(meter, ev) for _, ev in mine],
        )

    def arrays(self) -> _Arrays | None:
        """The columns counts and sums need, as numpy arrays; None when a sum could pass
        64 bits (those commits take the exact loop)."""
        if self._arrays is None:
            self._arrays = _Arrays.of(self)
        return self._arrays if self._arrays.high is not None else None


@dataclass(slots=True)
class _Arrays:
    subjects: list[str]  # distinct, indexed by `codes`
    codes: Ints
    times: Ints
    hours: Ints
    numeric: npt.NDArray[np.bool_]
    # Each value as high * 2**32 + low (0 <= low < 2**32), so that sums of many events
    # stay within 64 bits; None when a value is past 2**62 (then the exact loop runs).
    high: Ints | None
    low: Ints | None

    @classmethod
    def of(cls, rows: MeterRows) -> _Arrays:
        index: dict[str, int] = {}
        codes = [index.setdefault(ev.subject, len(index)) for ev in rows.events]
        times = np.fromiter((ev.time_ms for ev in rows.events), np.int64, len(rows.events))
        numeric = [type(p) is tuple for p in rows.parts]
        raw = [p[0] if type(p) is tuple else 0 for p in rows.parts]
        fits = not raw or (min(raw) > -_BIG and max(raw) < _BIG)
        values = np.array(raw if fits else [], np.int64)
        return cls(
            list(index),
            np.array(codes, np.int64),
            times,
            times // HOUR,
            np.array(numeric, np.bool_),
            values >> 32 if fits else None,
            values & 0xFFFFFFFF if fits else None,
        )


def touches(limit: Limit, meter: Meter, rows: MeterRows, now: int, voided: bool,
            columnar: bool = True) -> dict[Key, Touch]:  # fmt: skip
    """The keys these events move, with what they add (or, voided, take away).
    Counts and sums go through numpy unless `columnar` is False (the exact loop)."""
    tz = zone(limit.tz)
    window = period_at(limit, tz, now) if limit.period in ROLLING_DAYS else None
    by_subject = limit.scope is Scope.SUBJECT
    aggregation = meter.aggregation
    additive = not voided and aggregation in ADDITIVE
    count_all = aggregation is Aggregation.COUNT
    arrays = rows.arrays() if additive and columnar else None
    if arrays is not None:
        return _added(limit, meter, rows, arrays, tz, window)
    hours: dict[int, Period | None] = {}  # per UTC hour: its period, if it holds the hour
    out: dict[Key, Touch] = {}
    for k in _passing(limit, meter, rows):
        ev = rows.events[k]
        t = ev.time_ms
        if window is not None:
            if not window.start <= t < window.end:
                continue
            period = window
        else:
            hour = t // HOUR
            found = hours.get(hour)
            if found is None:
                found = period_at(limit, tz, t)
                if found is None:
                    continue
                if found.start <= hour * HOUR and (hour + 1) * HOUR <= found.end:
                    hours[hour] = found
            period = found
        key = (ev.subject if by_subject else "", period.start)
        touch = out.get(key)
        if touch is None:
            touch = out[key] = Touch(period)
        if additive:
            part = rows.parts[k]
            cell = touch.tally.cell
            if count_all:
                cell.count += 1
            elif type(part) is tuple:
                cell.count += 1
                cell.nanos += part[0]
        elif voided:
            touch.events.append(ev)
        else:
            touch.tally.add_part(aggregation, rows.seqs[k], t, rows.parts[k])
    return out


def _added(limit: Limit, meter: Meter, rows: MeterRows, arrays: _Arrays, tz: ZoneInfo,
           window: Period | None) -> dict[Key, Touch]:  # fmt: skip
    """`touches` of counts and sums, columnar: the events grouped by (subject, period)."""
    assert arrays.high is not None and arrays.low is not None
    chosen = np.ones(len(rows.events), np.bool_)
    if limit.filters:
        chosen[:] = False
        chosen[_passing(limit, meter, rows)] = True
    periods: list[Period] = []
    if window is not None:
        chosen &= (arrays.times >= window.start) & (arrays.times < window.end)
        at = np.zeros(len(rows.events), np.int64)
        periods.append(window)
    else:
        at = np.full(len(rows.events), -1, np.int64)
        hours, inverse = np.unique(arrays.hours[chosen], return_inverse=True)
        place = np.flatnonzero(chosen)
        number: dict[Period, int] = {}  # each period once, so keys are unique

        def numbered(period: Period) -> int:
            n = number.get(period)
            if n is None:
                n = number[period] = len(periods)
                periods.append(period)
            return n

        for h, hour in enumerate(hours.tolist()):
            found = period_at(limit, tz, hour * HOUR)
            if found is not None and found.start <= hour * HOUR and (hour + 1) * HOUR <= found.end:
                at[place[inverse == h]] = numbered(found)
                continue
            for k in place[inverse == h].tolist():  # the hour is split between periods
                one = period_at(limit, tz, rows.events[k].time_ms)
                if one is not None:
                    at[k] = numbered(one)
        chosen &= at >= 0
    by_subject = limit.scope is Scope.SUBJECT
    codes = arrays.codes[chosen] if by_subject else np.zeros(int(chosen.sum()), np.int64)
    keys, inverse = np.unique(codes * max(len(periods), 1) + at[chosen], return_inverse=True)
    # Events without a number still touch their key (as in the loop), adding nothing.
    counted = inverse if meter.aggregation is Aggregation.COUNT else inverse[arrays.numeric[chosen]]
    counts = np.bincount(counted, minlength=len(keys))
    sums = _sums(inverse, len(keys), arrays.high[chosen], arrays.low[chosen])
    out: dict[Key, Touch] = {}
    width = max(len(periods), 1)
    subjects = arrays.subjects
    for key, count, total in zip(keys.tolist(), counts.tolist(), sums, strict=True):
        code, p = divmod(key, width)
        period = periods[p]
        out[(subjects[code] if by_subject else "", period.start)] = Touch(
            period, Tally(Cell(count, total))
        )
    return out


def _sums(inverse: Ints, size: int, high: Ints, low: Ints) -> list[int]:
    """Exact per-group sums of high * 2**32 + low (fewer than 2**31 events a commit)."""
    highs = np.zeros(size, np.int64)
    lows = np.zeros(size, np.int64)
    np.add.at(highs, inverse, high)
    np.add.at(lows, inverse, low)
    return [(h << 32) + lo for h, lo in zip(highs.tolist(), lows.tolist(), strict=True)]


def spans(limit: Limit, meter: Meter, rows: MeterRows) -> dict[str, tuple[int, int]]:
    """Per subject ('' tenant-wide), the span of the times of its events within the
    limit's filter: which rolling windows kept at other times they may fall in."""
    out: dict[str, tuple[int, int]] = {}
    by_subject = limit.scope is Scope.SUBJECT
    for k in _passing(limit, meter, rows):
        ev = rows.events[k]
        t = ev.time_ms
        who = ev.subject if by_subject else ""
        span = out.get(who)
        out[who] = (t, t) if span is None else (min(span[0], t), max(span[1], t))
    return out


def _passing(limit: Limit, meter: Meter, rows: MeterRows) -> range | list[int]:
    """Positions of the events within the limit's dimension filter."""
    if not limit.filters:
        return range(len(rows.events))
    names = meter.dimension_names
    wanted = [(names.index(d), allowed) for d, allowed in limit.filters.items()]
    return [k for k, dims in enumerate(rows.dims)
            if all(dims[i] in allowed for i, allowed in wanted)]  # fmt: skip


def period_at(limit: Limit, tz: ZoneInfo, t: int) -> Period | None:
    """The limit's period holding instant `t`; None at the ends of representable time."""
    try:
        return period_of(limit.period, tz, t)
    except (WindowError, ValueError, OverflowError):
        return None
