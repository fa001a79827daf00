"""The door to aggregates: meter series and totals confined to the caller's scope.

Every query the server answers (native or profile) goes through `series` or
`totals`, which refuse another tenant's meter and narrow the subjects to the
caller's; `meter_totals` and `meter_total` serve the profiles by preset slug.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from usagekit.core import params
from usagekit.core.meters import Meter
from usagekit.core.numbers import Number, approx
from usagekit.core.presets import profile_of
from usagekit.core.rollup import Group
from usagekit.core.windows import Granularity, parse_aggregation_type, zone
from usagekit.services import meters
from usagekit.services.caller import Caller
from usagekit.services.errors import NotFound
from usagekit.services.queries.series import Query
from usagekit.services.queries.spec import Point, QuerySpec, build_spec, resolve_range
from usagekit.store import Store


@dataclass(frozen=True, slots=True)
class Series:
    """A meter's time series as asked: the resolved spec (range, zone) and its points."""

    spec: QuerySpec
    points: list[Point]


@dataclass(frozen=True, slots=True)
class Total:
    """One meter's total for one group; `group` has every asked label (None: not its own)."""

    meter: str
    unit: str | None
    group: dict[str, str | None]
    value: Number | None


@dataclass(frozen=True, slots=True)
class Summary:
    start: int
    end: int
    totals: list[Total]


def scoped(caller: Caller, meter: Meter, spec: QuerySpec) -> QuerySpec:
    """`spec` confined to what the caller may see: its tenant's meter, its subject only."""
    if meter.tenant_id != caller.tenant_id:
        raise NotFound(f"no meter {meter.slug!r}", "slug")
    if caller.subject is None:
        return spec
    own = frozenset({caller.subject})
    return replace(spec, subjects=own if spec.subjects is None else spec.subjects & own)


def series(query: Query, caller: Caller, meter: Meter, spec: QuerySpec) -> list[Point]:
    """Query.series within the caller's scope."""
    return query.series(meter, scoped(caller, meter, spec))


def totals(
    query: Query, caller: Caller, meter: Meter, spec: QuerySpec
) -> dict[Group, Number | None]:
    """Query.total within the caller's scope."""
    return query.total(meter, scoped(caller, meter, spec))


def meter_totals(
    store: Store,
    query: Query,
    caller: Caller,
    slug: str,
    lo: int,
    hi: int,
    *,
    group_by: Sequence[str] = (),
    filters: dict[str, Sequence[str]] | None = None,
    subjects: Sequence[str] | None = None,
) -> dict[Group, Number | None]:
    """One value per group over [lo, hi) ms, from the rollups as native queries are."""
    meter = store.meters.get(caller.tenant_id, slug)
    if meter is None:
        raise NotFound(f"no meter {slug!r}", "slug")
    spec = QuerySpec(
        lo,
        hi,
        Granularity.DAY,
        zone("UTC"),
        parse_aggregation_type("incremental"),
        tuple(group_by),
        tuple(sorted((k, frozenset(v)) for k, v in (filters or {}).items())),
        frozenset(subjects) if subjects is not None else None,
    )
    return totals(query, caller, meter, spec)


def meter_total(
    store: Store, query: Query, caller: Caller, slug: str, lo: int, hi: int, **kw: object
) -> int | float:
    """The ungrouped total (0 when nothing was metered)."""
    found = meter_totals(store, query, caller, slug, lo, hi, **kw)  # type: ignore[arg-type]
    return approx(next(iter(found.values()), None) or 0)


def query_meter(
    store: Store,
    query: Query,
    caller: Caller,
    slug: str,
    start: str | None,
    end: str | None,
    granularity: str = "day",
    tz: str = "UTC",
    aggregation_type: str = "incremental",
    group_by: Sequence[str] = (),
    filters: dict[str, list[str]] | None = None,
    subjects: Sequence[str] | None = None,
) -> Series:
    """GET /v1/meters/{slug}/query: the parameters as sent, checked, then the series."""
    narrowed = caller.narrow(subjects)
    meter = meters.find(store, caller, slug)
    spec = build_spec(
        meter,
        start,
        end,
        granularity,
        tz,
        aggregation_type,
        group_by,
        filters,
        narrowed,
        clock=store.clock,
    )
    return Series(spec, series(query, caller, meter, spec))


def summarize(
    store: Store,
    query: Query,
    caller: Caller,
    start: str | None,
    end: str | None,
    group_by: Sequence[str] = (),
    subjects: Sequence[str] | None = None,
    include_presets: bool = False,
) -> Summary:
    """One total per meter (and group) over [start, end), of the meters `meters.listed` gives.

    Profile presets without usage in the range are left out. A meter is grouped by
    the asked dimensions it has; the others are None in its labels.
    """
    group_by = [params.text(name, "group_by") for name in group_by]  # echoed in every row
    found = meters.listed(store, caller, include_presets)
    narrowed = caller.narrow(subjects)
    lo, hi = resolve_range(start, end, clock=store.clock)
    rows: list[Total] = []
    for meter in found:
        wanted = [g for g in group_by if g == "subject" or g in meter.dimensions]
        spec = build_spec(
            meter, str(lo), str(hi), "day", "UTC", "incremental", wanted, None, narrowed
        )
        values = totals(query, caller, meter, spec)
        if profile_of(meter.slug) and not any(values.values()):
            continue  # a seed profile's preset shows once it has usage
        for group, value in sorted(values.items(), key=lambda kv: [str(v) for v in kv[0]]):
            labels: dict[str, str | None] = dict.fromkeys(group_by)
            labels.update(zip(wanted, group, strict=True))
            rows.append(Total(meter.slug, meter.unit, labels, value))
    return Summary(lo, hi, rows)
