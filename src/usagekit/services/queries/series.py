"""Queries: time series and totals for a meter, served from rollups.

A query becomes windows (one per bucket), cut into elementary intervals; each
interval is read from rollup cells (or distinct rows) and windows merge them.
Raw events are read only for sub-minute edges and subject-level questions.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Container, Iterable
from typing import Any

from usagekit.core.aggregate import Cell, value_of, window_cells, window_distinct
from usagekit.core.meters import Aggregation, Meter
from usagekit.core.numbers import Number
from usagekit.core.rollup import Group
from usagekit.core.windows import (
    RAW,
    Edge,
    Elementary,
    buckets,
    decompose,
    decompose_distinct,
    elementary,
    windows,
)
from usagekit.services.queries.spec import Point, QuerySpec
from usagekit.services.queries.unique import day_counts
from usagekit.store import Store


class Query:
    def __init__(self, store: Store) -> None:
        self.store = store
        # How many queries each path answered ("bitmaps", "bitmaps+edges", "general"):
        # lets tests see which path ran.
        self.paths: Counter[str] = Counter()

    def series(self, meter: Meter, spec: QuerySpec) -> list[Point]:
        """One point per bucket (and group), empty buckets included."""
        spans = buckets(spec.start, spec.end, spec.granularity, spec.tz)
        wins = windows(spans, spec.aggregation_type, spec.tz)
        values = self._values(meter, spec, wins)
        points = []
        for group in sorted(values, key=_sort_key):
            labels = dict(zip(spec.group_by, group, strict=True))
            for (lo, hi), value in zip(spans, values[group], strict=True):
                points.append(Point(lo, hi, labels, value))
        return points

    def total(self, meter: Meter, spec: QuerySpec) -> dict[Group, Number | None]:
        """One value per group over [start, end)."""
        values = self._values(meter, spec, [(spec.start, spec.end)])
        return {g: v[0] for g, v in values.items()}

    def cells(self, meter: Meter, spec: QuerySpec) -> dict[Group, Cell]:
        """The merged aggregate of each group over [start, end) (not for unique counts):
        what a limit's kept usage starts from."""
        elem = elementary([(spec.start, spec.end)])
        raw_only = spec.subjects is not None or "subject" in spec.group_by
        out: dict[Group, Cell] = {}
        for group, cells in self._cells(meter, spec, elem, raw_only).items():
            merged = window_cells(cells, elem.runs)[0]
            if merged is not None:
                out[group] = merged
        return out

    def _values(
        self, meter: Meter, spec: QuerySpec, wins: list[tuple[int, int]]
    ) -> dict[Group, list[Number | None]]:
        elem = elementary(wins)
        raw_only = spec.subjects is not None or "subject" in spec.group_by
        out: dict[Group, list[Number | None]] = {}
        fast = None if raw_only else day_counts(self, meter, spec, wins)
        self.paths[fast[1] if fast else "general"] += 1
        if fast is not None:
            out.update(fast[0])
        elif meter.aggregation is Aggregation.UNIQUE_COUNT:
            presence = self.presence(meter, spec, elem, raw_only)
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

    def projector(self, meter: Meter, spec: QuerySpec) -> tuple[dict[int, Group], list[int] | None]:
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
            proj, gids = self.projector(meter, spec)
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

    def presence(
        self,
        meter: Meter,
        spec: QuerySpec,
        elem: Elementary,
        raw_only: bool,
        only: Container[int] | None = None,
    ) -> dict[Group, dict[str, set[int]]]:
        """Per group and value, the elementary intervals it was seen in (those in `only`)."""
        presence: dict[Group, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
        raw_ranges: list[tuple[int, int]] = []
        if raw_only:
            raw_ranges = [(elem.bounds[0], elem.bounds[-1])]
        else:
            refs: dict[int, dict[int, list[tuple[int, Edge, int]]]] = defaultdict(
                lambda: defaultdict(list)
            )
            for k, (lo, hi) in enumerate(elem.intervals):
                if only is not None and k not in only:
                    continue
                for edge, level, a, b in decompose_distinct(lo, hi):
                    if edge is None:
                        raw_ranges.append((a, b))
                    elif edge is Edge.FULL:
                        for bucket in range(a, b, level):
                            refs[level][bucket].append((k, edge, 0))
                    else:
                        refs[level][a].append((k, edge, b))
            proj, gids = self.projector(meter, spec)
            for level, by_bucket in refs.items():
                rows = (
                    row
                    for lo, hi in bucket_ranges(sorted(by_bucket), level)
                    for row in self.store.rollups.distinct_rows(meter.id, level, lo, hi, gids)
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


def bucket_ranges(starts: list[int], level: int) -> list[tuple[int, int]]:
    """Sorted bucket starts as [lo, hi) ranges to read: split where 2+ buckets are skipped."""
    out: list[tuple[int, int]] = []
    for b in starts:
        if out and b <= out[-1][1] + level:
            out[-1] = (out[-1][0], b + level)
        else:
            out.append((b, b + level))
    return out
