"""Limits: definitions read as a caller may and changed through the writer, and the
status of a limit for a subject (or the tenant) in the period holding an instant.

Usage is what the meter's query gives over the period (services.queries), for the
subject and the limit's filter: `usage_for` is that one computation, which a writer
keeping limit state current can call too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from usagekit.core import params
from usagekit.core.aggregate import Cell
from usagekit.core.limit_periods import ROLLING_DAYS, Period, period_kind, period_of
from usagekit.core.limits import (
    Limit,
    Scope,
    Standing,
    check_filters,
    check_limit_value,
    check_thresholds,
    standing,
    validate_limit,
)
from usagekit.core.meters import Meter
from usagekit.core.numbers import Number
from usagekit.core.windows import Granularity, WindowError, check_local, zone
from usagekit.services.allowed_writes import write
from usagekit.services.caller import Caller
from usagekit.services.errors import InvalidInput, NotFound
from usagekit.services.queries.series import Query
from usagekit.services.queries.spec import QuerySpec
from usagekit.store import Store

# The fields PATCH may change (slug and meter name what the limit is).
PATCHABLE = ("period", "tz", "limit", "thresholds", "scope", "filter", "description")


@dataclass(frozen=True, slots=True)
class Status:
    """A limit's standing for one subject (None: the tenant) in one period."""

    limit: Limit
    subject: str | None
    period: Period
    standing: Standing


def find(store: Store, caller: Caller, slug: str) -> Limit:
    """The caller's tenant's limit `slug`; NotFound naming `slug` otherwise."""
    params.text(slug, "slug", 64)
    found = store.limits.get(caller.tenant_id, slug)
    if found is None:
        raise NotFound(f"no limit {slug!r}; GET /v1/limits lists them", "slug")
    return found


def listed(store: Store, caller: Caller) -> list[Limit]:
    """The caller's tenant's limits, by slug (definitions are tenant-wide, like meters)."""
    return store.limits.for_tenant(caller.tenant_id)


def _meter(store: Store, tenant_id: int, slug: str) -> Meter:
    meter = store.meters.get(tenant_id, slug)
    if meter is None:
        raise NotFound(f"no meter {slug!r}; GET /v1/meters lists them", "meter")
    return meter


# -- usage and status ---------------------------------------------------------------------


def _spec(limit: Limit, subjects: list[str] | None, period: Period,
          by_subject: bool = False) -> QuerySpec:  # fmt: skip
    return QuerySpec(
        period.start,
        period.end,
        Granularity.DAY,
        zone(limit.tz),
        "incremental",
        ("subject",) if by_subject else (),
        tuple((name, frozenset(values)) for name, values in sorted(limit.filters.items())),
        frozenset(subjects) if subjects is not None else None,
    )


def usage_for(query: Query, limit: Limit, meter: Meter, subject: str | None,
              period: Period) -> Number | None:  # fmt: skip
    """The meter's value over [period.start, period.end) for `subject` (None: every
    subject) within the limit's filter: exactly what the meter's query gives."""
    subjects = [subject] if subject is not None else None
    return query.total(meter, _spec(limit, subjects, period)).get(())


def keep_limits(store: Store) -> None:
    """Let the writer start a limit's kept usage from a query of the committed events
    (a rollup read) rather than a recount of the period (store.limit_state)."""
    query = Query(store)

    def base(meter: Meter, limit: Limit, subjects: list[str] | None,
             period: Period) -> dict[str, Cell]:  # fmt: skip
        spec = _spec(limit, subjects, period, by_subject=subjects is not None)
        return {str(group[0]) if group else "": c for group, c in query.cells(meter, spec).items()}

    store.events.limits.base = base


def period_holding(limit: Limit, at: int) -> Period:
    """The limit's period holding `at`; InvalidInput naming `at` past the zone's years."""
    tz = zone(limit.tz)
    check_local(at, tz, "at")
    found = period_of(limit.period, tz, at)
    try:
        check_local(found.end, tz, "at")
    except WindowError:
        raise InvalidInput(
            "at: the period holding this instant ends past year 9999", "at"
        ) from None
    return found


def _status(query: Query, limit: Limit, subject: str | None, at: int) -> Status:
    """From the usage the writer keeps for the period, else (never counted since the limit
    was made, or a past rolling window) from the meter's query."""
    store = query.store
    period = period_holding(limit, at)
    found, used = False, None
    if limit.period not in ROLLING_DAYS or period == period_holding(limit, store.clock.now_ms()):
        found, used = store.limits.kept(limit, subject or "", period.start)
    if not found:
        meter = _meter(store, limit.tenant_id, limit.meter)
        used = usage_for(query, limit, meter, subject, period)
    return Status(limit, subject, period, standing(limit, used))


def _at(store: Store, at: str | None) -> int:
    return params.instant(at, "at") if at is not None else store.clock.now_ms()


def status(store: Store, query: Query, caller: Caller, slug: str, subject: str | None,
           at: str | None = None) -> Status:  # fmt: skip
    """GET /v1/limits/{slug}/status: a subject-scoped limit needs `subject`, a tenant-wide
    one refuses it; a subject-bound caller reaches its own subject only."""
    if subject is not None:
        params.text(subject, "subject")
    when = _at(store, at)
    limit = find(store, caller, slug)
    if limit.scope is Scope.TENANT:
        if subject is not None:
            raise InvalidInput(
                f"subject: limit {slug!r} is tenant-wide; ask without a subject", "subject"
            )
        caller.whole_tenant(f"limit {slug!r}")
    else:
        if subject is None:
            raise InvalidInput(f"subject: limit {slug!r} is per subject; name one", "subject")
        caller.narrow([subject])
    return _status(query, limit, subject, when)


def subject_statuses(store: Store, query: Query, caller: Caller, subject: str,
                     at: str | None = None) -> list[Status]:  # fmt: skip
    """GET /v1/subjects/{subject}/limits: every per-subject limit for `subject`, then the
    tenant-wide ones (not for a subject-bound caller: they show everyone's usage)."""
    params.text(subject, "subject")
    when = _at(store, at)
    caller.narrow([subject])
    found = listed(store, caller)
    out = [_status(query, x, subject, when) for x in found if x.scope is Scope.SUBJECT]
    if caller.subject is None:
        out += [_status(query, x, None, when) for x in found if x.scope is Scope.TENANT]
    return out


# -- writes: run in order by the writer (services.allowed_writes) --


@write
def create_limit(store: Store, tenant_id: int, fields: dict[str, Any]) -> Limit:
    """Check every field against the meter, then store; 404 naming `meter`, 409 `slug`."""
    slug = fields.get("slug")
    if not isinstance(slug, str):
        raise InvalidInput("slug: required", "slug")
    meter_slug = fields.get("meter")
    if not isinstance(meter_slug, str):
        raise InvalidInput("meter: required", "meter")
    params.text(meter_slug, "meter", 64)
    if "limit" not in fields:
        raise InvalidInput("limit: required", "limit")
    if "period" not in fields:
        raise InvalidInput("period: required", "period")
    limit = validate_limit(
        slug,
        meter_slug,
        (),
        fields["period"],
        fields.get("tz") or "UTC",
        fields["limit"],
        fields.get("thresholds"),
        fields.get("scope") or "subject",
        None,
        fields.get("description"),
    )
    meter = _meter(store, tenant_id, meter_slug)
    filters = check_filters(fields.get("filter"), meter.dimension_names)
    return store.limits.insert(tenant_id, meter.id, replace(limit, filters=filters))


@write
def update_limit(store: Store, tenant_id: int, slug: str, fields: dict[str, Any]) -> Limit:
    """Change the fields sent (null description clears it); the rest stay."""
    limit = find(store, Caller.tenant(tenant_id), slug)
    meter = _meter(store, tenant_id, limit.meter)
    for name in PATCHABLE:
        if name != "description" and name in fields and fields[name] is None:
            raise InvalidInput(f"{name}: may not be null", name)
    changes: dict[str, Any] = {}
    if "period" in fields:
        changes["period"] = period_kind(fields["period"])
    if "tz" in fields:
        changes["tz"] = params.zone(fields["tz"]).key
    if "limit" in fields:
        changes["limit_nanos"] = check_limit_value(fields["limit"])
    if "thresholds" in fields:
        changes["thresholds"] = check_thresholds(fields["thresholds"])
    if "scope" in fields:
        try:
            changes["scope"] = Scope(fields["scope"])
        except ValueError:
            raise InvalidInput("scope: must be subject or tenant", "scope") from None
    if "filter" in fields:
        changes["filters"] = check_filters(fields["filter"], meter.dimension_names)
    if "description" in fields:
        text = fields["description"]
        changes["description"] = None if text is None else params.text(text, "description", 2000)
    return store.limits.replace(replace(limit, **changes))


@write
def delete_limit(store: Store, tenant_id: int, slug: str) -> None:
    store.limits.delete(find(store, Caller.tenant(tenant_id), slug))
