"""The door to aggregates: meter series and totals confined to the caller's scope.

Every query the server answers (native or profile) goes through `series` or
`totals`, which refuse another tenant's meter and narrow the subjects to the
caller's; `meter_totals` and `meter_total` serve the profiles by preset slug.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from usagekit.core.meters import Meter
from usagekit.core.numbers import Number, approx
from usagekit.core.windows import Granularity, parse_aggregation_type, zone
from usagekit.services.caller import Caller
from usagekit.services.errors import NotFound
from usagekit.services.query import Query
from usagekit.services.query_spec import Group, Point, QuerySpec
from usagekit.store import Store


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
