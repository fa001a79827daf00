"""Unique counts over day windows from per-month day bitmaps (core.month_bitmaps, core.day_plans).

Windows of whole UTC days come from the bitmaps alone. The few others (a `to` of
"now", a `from` mid-day) take their whole UTC days from the same bitmaps, tested
value by value while the month rows stream, and their partial-day edges from the
distinct rows and raw events the general path reads (Query.presence).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from usagekit.core.day_plans import DayPlan, PartialTally, plan_days
from usagekit.core.meters import Aggregation, Meter
from usagekit.core.month_bitmaps import month_of_day, month_to_date_counts, rolling_counts, spread
from usagekit.core.numbers import Number
from usagekit.core.rollup import Group
from usagekit.core.windows import elementary
from usagekit.services.queries.spec import QuerySpec

if TYPE_CHECKING:
    from usagekit.services.queries.series import Query

Months = list[tuple[int, int]]  # one value's (month, day bits) rows


def day_counts(
    query: Query, meter: Meter, spec: QuerySpec, wins: list[tuple[int, int]]
) -> tuple[dict[Group, list[Number | None]], str] | None:
    """Unique counts per window and group, and the plan's name; None when it does not fit."""
    if meter.aggregation is not Aggregation.UNIQUE_COUNT:
        return None
    plan = plan_days(wins, spec.aggregation_type)
    if plan is None:
        return None
    proj, gids = query.projector(meter, spec)
    edges = _edge_values(query, meter, spec, plan)
    rows: Iterable[tuple[int, str, int, int]] = ()
    if plan.stop > plan.day0:
        rows = query.store.rollups.month_rows(
            meter.id, month_of_day(plan.day0), month_of_day(plan.stop - 1), gids
        )
    no_edges = [frozenset[str]() for _ in plan.partial]
    out: dict[Group, list[Number | None]] = {}
    for group, per_value in itertools.chain(
        values_by_group(rows, proj), ((g, iter(())) for g in edges)
    ):
        if group in out:
            continue  # met in the month rows already: its edges were counted there
        tallies = [
            PartialTally(p.mask, s)
            for p, s in zip(plan.partial, edges.get(group, no_edges), strict=True)
        ]
        counts: list[Number | None] = [0] * len(wins)
        counts[plan.regular.start : plan.regular.stop] = _scan(
            plan, spec.aggregation_type, per_value, [t for t in tallies if t.mask]
        )
        for p, tally in zip(plan.partial, tallies, strict=True):
            counts[p.index] = tally.count()
        out[group] = counts
    name = "bitmaps+edges" if plan.has_edges else "bitmaps"
    return {g: c for g, c in out.items() if any(c)}, name


def _scan(
    plan: DayPlan,
    aggregation_type: int | str,
    per_value: Iterator[tuple[str, Months]],
    tallies: list[PartialTally],
) -> list[int]:
    """Counts of the regular windows; every value's bitmap is offered to the partial tallies."""
    n = len(plan.regular)
    span = 1 if aggregation_type == "incremental" else aggregation_type
    if n and isinstance(span, int):
        bitmaps = _bitmaps(per_value, plan.day0, tallies)
        return rolling_counts(bitmaps, n, span, plan.first_end - plan.day0)
    rows = _rows(per_value, plan.day0, tallies)
    if n:
        return month_to_date_counts(rows, plan.first_end, n)
    for _ in rows:
        pass
    return []


def _bitmaps(
    per_value: Iterator[tuple[str, Months]], day0: int, tallies: list[PartialTally]
) -> Iterator[int]:
    if not tallies:
        for _, months in per_value:
            yield spread(months, day0)
        return
    for value, months in per_value:
        bitmap = spread(months, day0)
        for tally in tallies:
            tally.add(value, bitmap)
        yield bitmap


def _rows(
    per_value: Iterator[tuple[str, Months]], day0: int, tallies: list[PartialTally]
) -> Iterator[tuple[int, int]]:
    for value, months in per_value:
        if tallies:
            bitmap = spread(months, day0)
            for tally in tallies:
                tally.add(value, bitmap)
        yield from months


def _edge_values(
    query: Query, meter: Meter, spec: QuerySpec, plan: DayPlan
) -> dict[Group, list[set[str]]]:
    """Per group, the values seen in each partial window's edges (distinct rows, raw events)."""
    pieces = [(j, lo, hi) for j, p in enumerate(plan.partial) for lo, hi in p.edges]
    if not pieces:
        return {}
    elem = elementary([(lo, hi) for _, lo, hi in pieces])
    owners: dict[int, list[int]] = {}  # elementary interval -> partial windows it is in
    for (j, _, _), (a, b) in zip(pieces, elem.runs, strict=True):
        for k in range(a, b):
            owners.setdefault(k, []).append(j)
    out: dict[Group, list[set[str]]] = {}
    for group, per_value in query.presence(meter, spec, elem, False, owners).items():
        sets: list[set[str]] = [set() for _ in plan.partial]
        for value, ks in per_value.items():
            for k in ks:
                for j in owners[k]:
                    sets[j].add(value)
        out[group] = sets
    return out


def values_by_group(
    rows: Iterable[tuple[int, str, int, int]], proj: dict[int, Group]
) -> Iterator[tuple[Group, Iterator[tuple[str, Months]]]]:
    """Per output group, each value with its (month, day bits) rows, merged across stored groups.

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
                (value, [(month, bits) for _, _, month, bits in value_rows])
                for value, value_rows in itertools.groupby(gid_rows, key=lambda r: r[1])
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
        yield group, ((value, list(m.items())) for value, m in values.items())
