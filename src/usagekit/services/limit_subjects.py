"""The subjects closest to a limit: every subject's usage in the period holding an instant,
largest first, each with its standing against the limit (the dashboard's limit page).

Usage is the meter's query over the period grouped by subject, within the limit's filter:
the same query `services.limits.usage_for` makes for one subject, so each row equals that
subject's status. A tenant-wide limit has one standing, the tenant's (subject None).
"""

from __future__ import annotations

from dataclasses import dataclass

from usagekit.core import params
from usagekit.core.limit_periods import Period
from usagekit.core.limits import Limit, Scope, Standing, as_decimal, standing
from usagekit.core.meters import Meter
from usagekit.core.numbers import Number
from usagekit.core.windows import Granularity, zone
from usagekit.services.caller import Caller
from usagekit.services.errors import InvalidInput, NotFound
from usagekit.services.limits import find, period_holding
from usagekit.services.queries.series import Query
from usagekit.services.queries.spec import QuerySpec
from usagekit.store import Store

DEFAULT_ROWS = 20
MAX_ROWS = 500


@dataclass(frozen=True, slots=True)
class Row:
    subject: str | None  # None: the tenant, for a tenant-wide limit
    standing: Standing


@dataclass(frozen=True, slots=True)
class Closest:
    """A limit's period and its subjects' standings, usage descending."""

    limit: Limit
    period: Period
    rows: list[Row]


def usage_by_subject(query: Query, limit: Limit, meter: Meter, period: Period,
                     by_subject: bool) -> dict[str | None, Number | None]:  # fmt: skip
    """The meter's value over the period within the limit's filter, per subject (or for
    the whole tenant under None): the spec `services.limits.usage_for` builds, grouped."""
    spec = QuerySpec(
        period.start,
        period.end,
        Granularity.DAY,
        zone(limit.tz),
        "incremental",
        ("subject",) if by_subject else (),
        tuple((name, frozenset(values)) for name, values in sorted(limit.filters.items())),
        None,
    )
    found = query.total(meter, spec)
    if not by_subject:
        return {None: found.get(())}
    return {group[0]: value for group, value in found.items()}


def closest(store: Store, query: Query, caller: Caller, slug: str, at: str | None = None,
            rows: int = DEFAULT_ROWS) -> Closest:  # fmt: skip
    """GET /v1/limits/{slug}/subjects: at most `rows` subjects by usage, largest first
    (ties by subject). Tenant-wide: it shows every subject's usage, so not for a
    subject-bound caller."""
    caller.whole_tenant(f"the subjects of limit {slug!r}")
    if not 1 <= rows <= MAX_ROWS:
        raise InvalidInput(f"limit: must be 1 to {MAX_ROWS}", "limit")
    when = params.instant(at, "at") if at is not None else store.clock.now_ms()
    limit = find(store, caller, slug)
    meter = store.meters.get(limit.tenant_id, limit.meter)
    if meter is None:
        raise NotFound(f"no meter {limit.meter!r}; GET /v1/meters lists them", "meter")
    period = period_holding(limit, when)
    usage = usage_by_subject(query, limit, meter, period, limit.scope is Scope.SUBJECT)
    ordered = sorted(usage.items(), key=lambda kv: (-as_decimal(kv[1]), kv[0] or ""))
    return Closest(limit, period, [Row(s, standing(limit, u)) for s, u in ordered[:rows]])
