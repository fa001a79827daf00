"""Unique counts over day windows from per-month day bitmaps (core.month_bitmaps, core.day_plans).

Windows of whole UTC days come from the bitmaps alone, counted for every value and
group at once over the month rows as columns (core.day_columns). The few others (a `to`
of "now", a `from` mid-day) take their whole UTC days from the same columns and their
partial-day edges from the distinct rows and raw events the general path reads
(Query.presence); a value seen in both counts once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from usagekit.core.day_columns import WHOLE_ROWS, Ints, MonthColumns, rolling
from usagekit.core.day_plans import DayPlan, Partial, plan_days
from usagekit.core.meters import Aggregation, Meter
from usagekit.core.month_bitmaps import month_of_day
from usagekit.core.numbers import Number
from usagekit.core.rollup import Group
from usagekit.core.windows import elementary
from usagekit.services.queries.spec import QuerySpec

if TYPE_CHECKING:
    from usagekit.services.queries.series import Query


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
    names = list(dict.fromkeys([*proj.values(), *edges]))
    index = {g: i for i, g in enumerate(names)}
    cols = MonthColumns.load((), {}, True)
    if plan.stop > plan.day0:
        chunks = query.store.rollups.month_chunks(
            meter.id, month_of_day(plan.day0), month_of_day(plan.stop - 1), gids
        )
        group_of = {gid: index[g] for gid, g in proj.items()}
        cols = MonthColumns.load(chunks, group_of, len(set(proj.values())) == len(proj))
    span = 1 if spec.aggregation_type == "incremental" else spec.aggregation_type
    n, groups = len(plan.regular), len(names)
    counts = np.zeros((groups, len(wins)), dtype=np.int64)
    if n and isinstance(span, int):
        if span >= WHOLE_ROWS:
            keys, first, last = cols.key, *cols.day_spans(plan.day0)
        else:
            keys, first = cols.active_days(plan.day0, plan.stop)
            last = first
        offset = plan.first_end - plan.day0
        counts[:, plan.regular.start : plan.regular.stop] = rolling(
            keys, first, last, cols.key_group, groups, span, offset, n
        )
    elif n:
        counts[:, plan.regular.start : plan.regular.stop] = cols.month_to_date(
            groups, plan.first_end, n
        )
    for j, p in enumerate(plan.partial):
        seen = {index[g]: sets[j] for g, sets in edges.items() if sets[j]}
        counts[:, p.index] = _partial(p, plan.day0, cols, groups, seen)
    name = "bitmaps+edges" if plan.has_edges else "bitmaps"
    out: dict[Group, list[Number | None]] = {}
    for g, row in zip(names, counts.tolist(), strict=True):
        if any(row):
            out[g] = list(row)
    return out, name


def _partial(
    p: Partial,
    day0: int,
    cols: MonthColumns,
    groups: int,
    seen: dict[int, set[str]],
) -> Ints:
    """Per group, the distinct values of a partial window: its whole days, plus its edges."""
    out = np.zeros(groups, dtype=np.int64)
    for g, values in seen.items():
        out[g] = len(values)
    if not p.mask:
        return out
    lo = (p.mask & -p.mask).bit_length() - 1
    hit = cols.keys_within(day0, lo, p.mask.bit_length())
    hit_group = cols.key_group[hit]
    out += np.bincount(hit_group, minlength=groups)
    for g, values in seen.items():
        out[g] -= len(values.intersection(cols.key_values(hit[hit_group == g])))
    return out


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
