"""LaunchDarkly account usage: any endpoint row answered from its preset meter.

One function serves all 23 routes: the row resolves the request into a plan, the
engine (Query.series / Query.total) computes it, and the reply is shaped as the
client's SeriesListRep, SeriesListRepFloat, SdkListRep or SdkVersionListRep.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from usagekit.core.errors import ParamError
from usagekit.core.meters import Meter
from usagekit.core.numbers import Number, approx
from usagekit.core.rollup import Group
from usagekit.core.windows import buckets
from usagekit.profiles.launchdarkly.model import Endpoint, Reply
from usagekit.profiles.launchdarkly.params import Plan, resolve
from usagekit.services import usage as usage_door
from usagekit.services.caller import Caller
from usagekit.services.errors import InvalidInput, NotFound
from usagekit.services.queries.series import Query
from usagekit.services.queries.spec import QuerySpec, build_spec
from usagekit.store import Store

UNKNOWN = "Unknown"


def usage(
    store: Store,
    query: Query,
    caller: Caller,
    ep: Endpoint,
    path: Mapping[str, str],
    params: Sequence[tuple[str, str]],
    href: str,
    now_ms: int | None = None,
) -> dict[str, Any]:
    """The reply body of `ep` for one request; InvalidInput names a bad parameter.

    A subject-bound caller's numbers are its subject's only.
    """
    now = store.clock.now_ms() if now_ms is None else now_ms
    try:
        plan = resolve(ep, path, params, now)
    except ParamError as exc:
        raise InvalidInput(str(exc), exc.param) from None
    meter = store.meters.get(caller.tenant_id, ep.meter)
    if meter is None:
        raise NotFound(f"preset {ep.meter!r} is missing; restart the server to restore it")
    spec = build_spec(
        meter,
        str(plan.start),
        str(plan.end),
        plan.granularity.value,
        plan.tz,
        plan.aggregation,
        plan.group_by,
        plan.filters,
    )
    spec = usage_door.scoped(caller, meter, spec)
    links = {"self": {"href": href, "type": "application/json"}}
    if ep.reply is Reply.SDKS:
        return {"_links": links, "sdks": sorted(g[0] for g in _used(query.total(meter, spec)))}
    if ep.reply is Reply.SDK_VERSIONS:
        pairs = sorted(_used(query.total(meter, spec)))
        versions = [{"sdk": sdk, "version": version} for sdk, version in pairs]
        return {"_links": links, "sdkVersions": versions}
    metadata, series = _series(query, meter, spec, plan, ep.reply is Reply.SERIES_FLOAT)
    return {"_links": links, "metadata": metadata, "series": series}


def _used(totals: dict[Group, Number | None]) -> set[tuple[str, ...]]:
    """The groups with usage, a missing value shown as Unknown."""
    return {tuple(UNKNOWN if v is None else v for v in g) for g, value in totals.items() if value}


def _series(
    query: Query, meter: Meter, spec: QuerySpec, plan: Plan, floats: bool
) -> tuple[list[dict[str, Any]], list[dict[str, int | float]]]:
    """metadata[i] describes series i; series has one row per bucket: {time, "0": v, ...}."""
    times = [lo for lo, _ in buckets(spec.start, spec.end, spec.granularity, ZoneInfo(plan.tz))]
    columns: dict[Group, list[int | float]] = {}
    for point in query.series(meter, spec):
        group = tuple(point.group[d] for d in spec.group_by)
        value = approx(point.value or 0)
        columns.setdefault(group, []).append(value if floats else _integer(value))
    metadata = [{**plan.path, **dict(zip(plan.labels, group, strict=True))} for group in columns]
    rows: list[dict[str, int | float]] = []
    for k, at in enumerate(times):
        row: dict[str, int | float] = {"time": at}
        for i, values in enumerate(columns.values()):
            row[str(i)] = values[k]
        rows.append(row)
    return metadata, rows


def _integer(value: int | float) -> int:
    """SeriesListRep takes integers only: sums of fractional amounts are rounded."""
    return value if isinstance(value, int) else round(value)
