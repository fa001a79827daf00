"""Queries: time series and totals for a meter, served from rollups.

A query becomes windows (one per bucket), cut into elementary intervals; each
interval is read from rollup cells (or distinct rows) and windows merge them.
Raw events are read only for sub-minute edges and subject-level questions.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from usagekit.core.aggregate import Cell, value_of, window_cells, window_distinct
from usagekit.core.daybits import (
    first_day,
    month_of_day,
    month_to_date_counts,
    rolling_counts,
    spread,
)
from usagekit.core.meters import Aggregation, Meter
from usagekit.core.windows import (
    DAY,
    RAW,
    Edge,
    Elementary,
    Granularity,
    WindowError,
    buckets,
    decompose,
    decompose_distinct,
    elementary,
    windows,
)
from usagekit.services.errors import InvalidInput
from usagekit.services.query_spec import Group, Point, QuerySpec
from usagekit.store import Store


class Query:
    def __init__(self, store: Store) -> None:
        self.store = store

    def series(self, meter: Meter, spec: QuerySpec) -> list[Point]:
        """One point per bucket (and group), empty buckets included."""
        try:
            spans = buckets(spec.start, spec.end, spec.granularity, spec.tz)
        except WindowError as exc:
            raise InvalidInput(str(exc), exc.param) from None
        wins = windows(spans, spec.aggregation_type, spec.tz)
        values = self._values(meter, spec, wins)
        points = []
        for group in sorted(values, key=_sort_key):
            labels = dict(zip(spec.group_by, group, strict=True))
            for (lo, hi), value in zip(spans, values[group], strict=True):
                points.append(Point(lo, hi, labels, value))
        return points

    def total(self, meter: Meter, spec: QuerySpec) -> dict[Group, int | float | None]:
        """One value per group over [start, end)."""
        values = self._values(meter, spec, [(spec.start, spec.end)])
        return {g: v[0] for g, v in values.items()}

    def _values(
        self, meter: Meter, spec: QuerySpec, wins: list[tuple[int, int]]
    ) -> dict[Group, list[int | float | None]]:
        elem = elementary(wins)
        raw_only = spec.subjects is not None or "subject" in spec.group_by
        out: dict[Group, list[int | float | None]] = {}
        fast = None if raw_only else self._whole_days(meter, spec, wins)
        if fast is not None:
            out.update(fast)
        elif meter.aggregation is Aggregation.UNIQUE_COUNT:
            presence = self._presence(meter, spec, elem, raw_only)
            for group, per_value in presence.items():
                ordered = {v: sorted(ks) for v, ks in per_value.items()}
                out[group] = list(window_distinct(ordered, elem.runs))
        else:
            for group, cells in self._cells(meter, spec, elem, raw_only).items():
                merged = window_cells(cells, elem.runs)
                out[group] = [value_of(c, meter.aggregation) for c in merged]
        if not spec.group_by and () not in out:
            empty = (
                value_of(None, meter.aggregation)
                if meter.aggregation is not Aggregation.UNIQUE_COUNT
                else 0
            )
            out[()] = [empty] * len(wins)
        return out

    # -- groups ---------------------------------------------------------------------------

    def _projector(
        self, meter: Meter, spec: QuerySpec
    ) -> tuple[dict[int, Group], list[int] | None]:
        """Group id -> projected group, for the groups that pass the filters."""
        names = meter.dimension_names
        position = {n: i for i, n in enumerate(names)}
        proj: dict[int, Group] = {}
        for gid, values in self.store.meters.groups(meter.id).items():
            if all(values[position[d]] in allowed for d, allowed in spec.filters):
                proj[gid] = tuple(values[position[d]] for d in spec.group_by)
        return proj, (sorted(proj) if spec.filters else None)

    def _event_group(self, meter: Meter, spec: QuerySpec, ev: Any) -> Group | None:
        values = dict(zip(meter.dimension_names, meter.dimension_tuple(ev), strict=True))
        if any(values[d] not in allowed for d, allowed in spec.filters):
            return None
        values["subject"] = ev.subject
        return tuple(values[d] for d in spec.group_by)

    def _raw(self, meter: Meter, spec: QuerySpec, lo: int, hi: int) -> Iterable[tuple[int, Any]]:
        subjects = sorted(spec.subjects) if spec.subjects is not None else None
        return self.store.events.raw(None, meter.tenant_id, meter.event_type, lo, hi, subjects)

    # -- unique counts over whole UTC days (core.daybits) -------------------------------------

    def _whole_days(
        self, meter: Meter, spec: QuerySpec, wins: list[tuple[int, int]]
    ) -> dict[Group, list[int | float | None]] | None:
        """Daily unique counts from per-month day bitmaps, when every window is whole UTC days."""
        if (
            meter.aggregation is not Aggregation.UNIQUE_COUNT
            or spec.granularity is not Granularity.DAY
        ):
            return None
        if any(lo % DAY or hi % DAY for lo, hi in wins):
            return None
        ends = [hi // DAY for _, hi in wins]
        if ends != list(range(ends[0], ends[0] + len(ends))):
            return None
        kind = spec.aggregation_type
        span = 1 if kind == "incremental" else kind
        if isinstance(span, int):
            if any(hi - lo != span * DAY for lo, hi in wins):
                return None
        elif any(lo // DAY != first_day(month_of_day(hi // DAY - 1)) for lo, hi in wins):
            return None
        day0 = min(lo for lo, _ in wins) // DAY
        proj, gids = self._projector(meter, spec)
        rows = self.store.rollups.month_rows(
            meter.id, month_of_day(day0), month_of_day(ends[-1] - 1), gids
        )
        out: dict[Group, list[int | float | None]] = {}
        for group, per_value in _values_by_group(rows, proj):
            if isinstance(span, int):
                bitmaps = (spread(months, day0) for months in per_value)
                counts = rolling_counts(bitmaps, len(wins), span, ends[0] - 1 - day0)
            else:
                flat = (row for months in per_value for row in months)
                counts = month_to_date_counts(flat, ends[0] - 1, len(wins))
            if any(counts):
                out[group] = list(counts)
        return out

    # -- sums, counts, min, max, avg, latest -----------------------------------------------

    def _cells(
        self, meter: Meter, spec: QuerySpec, elem: Elementary, raw_only: bool
    ) -> dict[Group, list[Cell | None]]:
        n = len(elem.bounds) - 1
        series: dict[Group, list[Cell | None]] = defaultdict(lambda: [None] * n)

        def add(group: Group, k: int, cell: Cell) -> None:
            current = series[group][k]
            if current is None:
                series[group][k] = cell
            else:
                current.merge(cell)

        raw_ranges: list[tuple[int, int]] = []
        if raw_only:
            raw_ranges = [(elem.bounds[0], elem.bounds[-1])]
        else:
            pieces = []
            for k, (lo, hi) in enumerate(elem.intervals):
                for level, a, b in decompose(lo, hi):
                    if level == RAW:
                        raw_ranges.append((a, b))
                    else:
                        pieces.append((k, level, a, b))
            proj, gids = self._projector(meter, spec)
            latest = meter.aggregation is Aggregation.LATEST
            for (k, gid), cell in self.store.rollups.cells(meter.id, pieces, gids, latest).items():
                if gid in proj:
                    add(proj[gid], k, cell)
        for lo, hi in merge_ranges(raw_ranges):
            for seq, ev in self._raw(meter, spec, lo, hi):
                k = elem.index_of(ev.time_ms)
                group = self._event_group(meter, spec, ev)
                if k < 0 or group is None:
                    continue
                cell = Cell()
                if meter.aggregation is Aggregation.COUNT:
                    cell.add(0, None, ev.time_ms, seq)
                else:
                    num = meter.numeric(ev)
                    if num is None:
                        continue
                    cell.add(num[0], num[1], ev.time_ms, seq)
                add(group, k, cell)
        return series

    # -- unique counts ---------------------------------------------------------------------

    def _presence(
        self, meter: Meter, spec: QuerySpec, elem: Elementary, raw_only: bool
    ) -> dict[Group, dict[str, set[int]]]:
        presence: dict[Group, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
        raw_ranges: list[tuple[int, int]] = []
        if raw_only:
            raw_ranges = [(elem.bounds[0], elem.bounds[-1])]
        else:
            refs: dict[int, dict[int, list[tuple[int, Edge, int]]]] = defaultdict(
                lambda: defaultdict(list)
            )
            for k, (lo, hi) in enumerate(elem.intervals):
                for edge, level, a, b in decompose_distinct(lo, hi):
                    if edge is None:
                        raw_ranges.append((a, b))
                    elif edge is Edge.FULL:
                        for bucket in range(a, b, level):
                            refs[level][bucket].append((k, edge, 0))
                    else:
                        refs[level][a].append((k, edge, b))
            proj, gids = self._projector(meter, spec)
            for level, by_bucket in refs.items():
                rows = self.store.rollups.distinct_rows(
                    meter.id, level, min(by_bucket), max(by_bucket) + level, gids
                )
                for bucket, gid, value, first, last in rows:
                    uses = by_bucket.get(bucket)
                    if not uses or gid not in proj:
                        continue
                    for k, edge, threshold in uses:
                        if (
                            edge is Edge.FULL
                            or (edge is Edge.SUFFIX and last >= threshold)
                            or (edge is Edge.PREFIX and first < threshold)
                        ):
                            presence[proj[gid]][value].add(k)
        for lo, hi in merge_ranges(raw_ranges):
            for _, ev in self._raw(meter, spec, lo, hi):
                k = elem.index_of(ev.time_ms)
                group = self._event_group(meter, spec, ev)
                seen = meter.distinct_value(ev)
                if k >= 0 and group is not None and seen is not None:
                    presence[group][seen].add(k)
        return presence


def _sort_key(group: Group) -> tuple[tuple[int, str], ...]:
    return tuple((1, "") if v is None else (0, v) for v in group)


def merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join touching or overlapping [lo, hi) ranges, so raw events are read in few queries."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _values_by_group(
    rows: Iterable[tuple[int, str, int, int]], proj: dict[int, Group]
) -> Iterable[tuple[Group, Iterable[list[tuple[int, int]]]]]:
    """Per output group, each value's (month, day bits) rows, merged across stored groups.

    Rows arrive ordered by (group id, value, month). When no two stored groups
    project onto one output group, a value's rows are consecutive and are
    streamed; otherwise they are merged in memory first.
    """
    if len(set(proj.values())) == len(proj):
        by_gid = itertools.groupby(rows, key=lambda r: r[0])
        for gid, gid_rows in by_gid:
            group = proj.get(gid)
            if group is None:
                continue
            per_value = (
                [(month, bits) for _, _, month, bits in value_rows]
                for _, value_rows in itertools.groupby(gid_rows, key=lambda r: r[1])
            )
            yield group, per_value
        return
    merged: dict[Group, dict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    for gid, value, month, bits in rows:
        group = proj.get(gid)
        if group is not None:
            months = merged[group][value]
            months[month] = months.get(month, 0) | bits
    for group, values in merged.items():
        yield group, (list(m.items()) for m in values.values())
