"""Totals of a tenant's meter by slug over a plain [lo, hi) range, for the profiles."""

from __future__ import annotations

from collections.abc import Sequence

from usagekit.core.numbers import Number, approx
from usagekit.core.windows import Granularity, parse_aggregation_type, zone
from usagekit.services.errors import NotFound
from usagekit.services.query import Query
from usagekit.services.query_spec import Group, QuerySpec
from usagekit.store import Store


def meter_totals(
    store: Store,
    query: Query,
    tenant_id: int,
    slug: str,
    lo: int,
    hi: int,
    *,
    group_by: Sequence[str] = (),
    filters: dict[str, Sequence[str]] | None = None,
    subjects: Sequence[str] | None = None,
) -> dict[Group, Number | None]:
    """One value per group over [lo, hi) ms, from the rollups as native queries are."""
    meter = store.meters.get(tenant_id, slug)
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
    return query.total(meter, spec)


def meter_total(
    store: Store, query: Query, tenant_id: int, slug: str, lo: int, hi: int, **kw: object
) -> int | float:
    """The ungrouped total (0 when nothing was metered)."""
    totals = meter_totals(store, query, tenant_id, slug, lo, hi, **kw)  # type: ignore[arg-type]
    return approx(next(iter(totals.values()), None) or 0)
