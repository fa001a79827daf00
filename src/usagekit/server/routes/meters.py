"""Meters, their queries, and the usage summary."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from usagekit.core import params
from usagekit.core.events import format_time
from usagekit.core.meters import InvalidMeter, Meter, validate_meter
from usagekit.core.presets import profile_of
from usagekit.core.windows import format_local
from usagekit.server.auth import Can, Principal, ctx, require
from usagekit.server.errors import ApiError
from usagekit.server.models import MeterIn, MeterOut, QueryOut, SummaryOut
from usagekit.server.responses import JSON, csv_lines, stream_csv, wants_csv
from usagekit.server.routes.common import blocking
from usagekit.services import usage, writes
from usagekit.services.query_spec import Point, QuerySpec, build_spec, resolve_range
from usagekit.store import Store

router = APIRouter(tags=["meters"])


def find_meter(store: Store, tenant_id: int, slug: str) -> Meter:
    params.text(slug, "slug", 64)
    meter = store.meters.get(tenant_id, slug)
    if meter is None:
        raise ApiError(404, f"no meter {slug!r}; GET /v1/meters lists them", "slug")
    return meter


def meter_json(meter: Meter) -> dict[str, Any]:
    """A meter as the API shows it: `profile` names the seed profile of a preset."""
    return {**meter.as_dict(), "profile": profile_of(meter.slug)}


async def meter_or_404(request: Request, tenant_id: int, slug: str) -> Meter:
    return await blocking(find_meter, ctx(request).store, tenant_id, slug)


@router.post("/v1/meters", status_code=201, response_model=MeterOut)
async def create_meter(
    request: Request, body: MeterIn, who: Annotated[Principal, Depends(require(Can.MANAGE))]
) -> Response:
    """Define a meter; it covers events already stored too (backfilled from raw events)."""
    try:
        meter = validate_meter(
            body.slug,
            body.event_type,
            body.aggregation,
            body.value_property,
            body.dimensions,
            body.unit,
            body.description,
        )
    except InvalidMeter as exc:
        raise ApiError(400, str(exc), exc.param) from None
    context = ctx(request)
    created = await context.writer.run(writes.create_meter, who.tenant_id, meter)
    return JSON(meter_json(created), 201)


@router.get("/v1/meters", response_model=list[MeterOut])
async def list_meters(
    request: Request, who: Annotated[Principal, Depends(require(Can.READ))]
) -> Response:
    meters = await blocking(ctx(request).store.meters.for_tenant, who.tenant_id)
    return JSON([meter_json(m) for m in meters])


@router.get("/v1/meters/{slug}", response_model=MeterOut)
async def get_meter(
    request: Request, slug: str, who: Annotated[Principal, Depends(require(Can.READ))]
) -> Response:
    return JSON(meter_json(await meter_or_404(request, who.tenant_id, slug)))


@router.delete("/v1/meters/{slug}", status_code=204)
async def delete_meter(
    request: Request, slug: str, who: Annotated[Principal, Depends(require(Can.MANAGE))]
) -> Response:
    """Delete a meter and its rollups; raw events are kept."""
    meter = await meter_or_404(request, who.tenant_id, slug)
    context = ctx(request)
    await context.writer.run(writes.delete_meter, meter)
    return Response(status_code=204)


def stamper(tz: ZoneInfo) -> Callable[[int], str]:
    """format_local with a memo: a grouped series repeats the same bucket edges per group."""
    memo: dict[int, str] = {}

    def stamp(ms: int) -> str:
        text = memo.get(ms)
        if text is None:
            text = memo[ms] = format_local(ms, tz)
        return text

    return stamp


def filters_of(request: Request) -> dict[str, list[str]]:
    """filter[<dimension>]=value pairs (repeatable) from the query string."""
    out: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        if name.startswith("filter[") and name.endswith("]"):
            out.setdefault(name[7:-1], []).append(value)
    return out


@router.get(
    "/v1/meters/{slug}/query",
    response_model=QueryOut,
    responses={200: {"content": {"text/csv": {}}}},
)
async def query_meter(
    request: Request,
    slug: str,
    who: Annotated[Principal, Depends(require(Can.READ))],
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
    granularity: str = "day",
    tz: str = "UTC",
    aggregation_type: str = "incremental",
    group_by: Annotated[list[str] | None, Query()] = None,
    subject: Annotated[list[str] | None, Query()] = None,
    format: str | None = None,
) -> Response:
    """A time series: one value per bucket (and group); JSON, or CSV on Accept: text/csv."""
    context = ctx(request)
    filters = filters_of(request)
    caller = who.caller
    subjects = caller.narrow(subject)

    def run() -> tuple[QuerySpec, list[Point]]:
        # One worker-thread hop for lookup and query: each hop costs on every request.
        meter = find_meter(context.store, caller.tenant_id, slug)
        spec = build_spec(
            meter,
            from_,
            to,
            granularity,
            tz,
            aggregation_type,
            group_by or [],
            filters,
            subjects,
            clock=context.store.clock,
        )
        return spec, usage.series(context.query, caller, meter, spec)

    spec, points = await blocking(run)
    stamp = stamper(spec.tz)
    if wants_csv(request.headers.get("accept"), format):
        names = list(spec.group_by)
        csv_rows = (
            [stamp(p.start), stamp(p.end), *(p.group[n] for n in names), p.value] for p in points
        )
        return stream_csv(csv_lines(["start", "end", *names, "value"], csv_rows), f"{slug}.csv")
    rows = [
        {"start": stamp(p.start), "end": stamp(p.end), "group": p.group, "value": p.value}
        for p in points
    ]
    return JSON(
        {
            "meter": slug,
            "granularity": spec.granularity.value,
            "tz": tz,
            "aggregation_type": aggregation_type,
            "from": format_local(spec.start, spec.tz),
            "to": format_local(spec.end, spec.tz),
            "data": rows,
        }
    )


@router.get(
    "/v1/usage/summary", response_model=SummaryOut, responses={200: {"content": {"text/csv": {}}}}
)
async def usage_summary(
    request: Request,
    who: Annotated[Principal, Depends(require(Can.READ))],
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
    group_by: Annotated[list[str] | None, Query()] = None,
    subject: Annotated[list[str] | None, Query()] = None,
    format: str | None = None,
) -> Response:
    """One total per meter (and group) over [from, to); idle profile presets are left out."""
    context = ctx(request)
    caller = who.caller
    meters = await blocking(context.store.meters.for_tenant, caller.tenant_id)
    subjects = caller.narrow(subject)
    start, end = resolve_range(from_, to, clock=context.store.clock)
    data: list[dict[str, Any]] = []
    for meter in meters:
        wanted = [g for g in group_by or [] if g == "subject" or g in meter.dimensions]
        spec = build_spec(
            meter, str(start), str(end), "day", "UTC", "incremental", wanted, None, subjects
        )
        totals = await blocking(usage.totals, context.query, caller, meter, spec)
        if profile_of(meter.slug) and not any(totals.values()):
            continue  # a seed profile's preset shows once it has usage
        for group, value in sorted(totals.items(), key=lambda kv: [str(v) for v in kv[0]]):
            labels: dict[str, str | None] = dict.fromkeys(group_by or [])
            labels.update(zip(wanted, group, strict=True))
            data.append({"meter": meter.slug, "unit": meter.unit, "group": labels, "value": value})
    if wants_csv(request.headers.get("accept"), format):
        names = list(group_by or [])

        def csv_rows() -> Iterator[list[Any]]:
            for r in data:
                yield [r["meter"], *(r["group"][n] for n in names), r["value"], r["unit"] or ""]

        return stream_csv(csv_lines(["meter", *names, "value", "unit"], csv_rows()), "summary.csv")
    return JSON({"from": format_time(start), "to": format_time(end), "data": data})
