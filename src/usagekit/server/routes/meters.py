"""Meters, their queries, and the usage summary."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from usagekit.core.events import format_time
from usagekit.core.meters import Meter, validate_meter
from usagekit.core.presets import profile_of
from usagekit.core.windows import Granularity, format_local
from usagekit.server.auth import Can, Principal, ctx, require
from usagekit.server.models import MeterIn, MeterOut, QueryOut, SummaryOut
from usagekit.server.responses import JSON, csv_lines, stream_csv, wants_csv
from usagekit.server.routes.common import in_thread
from usagekit.services import meters, usage

router = APIRouter(tags=["meters"])

# JSON unless CSV is asked for (here, or by Accept: text/csv).
Format = Annotated[Literal["json", "csv"] | None, Query()]
# Checked by core.windows.parse_aggregation_type; documented here.
AGGREGATION_TYPE = {
    "pattern": "^(incremental|month_to_date|rolling_[0-9]{1,3}d)$",
    "description": "incremental, month_to_date, or rolling_<N>d for N from 1 to 366",
}


def meter_json(meter: Meter) -> dict[str, Any]:
    """A meter as the API shows it: `profile` names the seed profile of a preset."""
    return {**meter.as_dict(), "profile": profile_of(meter.slug)}


async def meter_or_404(request: Request, who: Principal, slug: str) -> Meter:
    return await in_thread(meters.find, ctx(request).store, who.caller, slug)


@router.post("/v1/meters", status_code=201, response_model=MeterOut)
async def create_meter(
    request: Request, body: MeterIn, who: Annotated[Principal, Depends(require(Can.MANAGE))]
) -> Response:
    """Define a meter; it covers events already stored too (backfilled from raw events)."""
    meter = validate_meter(
        body.slug,
        body.event_type,
        body.aggregation,
        body.value_property,
        body.dimensions,
        body.unit,
        body.description,
    )
    context = ctx(request)
    created = await context.writer.run(meters.create_meter, who.tenant_id, meter)
    return JSON(meter_json(created), 201)


IncludePresets = Annotated[
    bool,
    Query(
        description="also list the profile presets the tenant does not use "
        "(idle ones, and those an own meter repeats)"
    ),
]


@router.get("/v1/meters", response_model=list[MeterOut])
async def list_meters(
    request: Request,
    who: Annotated[Principal, Depends(require(Can.READ))],
    include_presets: IncludePresets = False,
) -> Response:
    """The tenant's own meters and the profile presets it uses (see include_presets)."""
    found = await in_thread(meters.listed, ctx(request).store, who.caller, include_presets)
    return JSON([meter_json(m) for m in found])


@router.get("/v1/meters/{slug}", response_model=MeterOut)
async def get_meter(
    request: Request, slug: str, who: Annotated[Principal, Depends(require(Can.READ))]
) -> Response:
    return JSON(meter_json(await meter_or_404(request, who, slug)))


@router.delete("/v1/meters/{slug}", status_code=204)
async def delete_meter(
    request: Request, slug: str, who: Annotated[Principal, Depends(require(Can.MANAGE))]
) -> Response:
    """Delete a meter and its rollups; raw events are kept."""
    meter = await meter_or_404(request, who, slug)
    context = ctx(request)
    await context.writer.run(meters.delete_meter, meter)
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
    granularity: Annotated[str, Query(json_schema_extra={"enum": list(Granularity)})] = "day",
    tz: str = "UTC",
    aggregation_type: Annotated[str, Query(json_schema_extra=AGGREGATION_TYPE)] = "incremental",
    group_by: Annotated[list[str] | None, Query()] = None,
    subject: Annotated[list[str] | None, Query()] = None,
    format: Format = None,
) -> Response:
    """A time series: one value per bucket (and group); JSON, or CSV on Accept: text/csv."""
    context = ctx(request)
    found = await in_thread(
        usage.query_meter,
        context.store,
        context.query,
        who.caller,
        slug,
        from_,
        to,
        granularity,
        tz,
        aggregation_type,
        group_by or [],
        filters_of(request),
        subject,
    )
    spec, points = found.spec, found.points
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
    format: Format = None,
    include_presets: IncludePresets = False,
) -> Response:
    """One total per meter (and group) over [from, to), for the meters GET /v1/meters lists.

    Profile presets without usage in the range are left out.
    """
    context = ctx(request)
    summary = await in_thread(
        usage.summarize,
        context.store,
        context.query,
        who.caller,
        from_,
        to,
        group_by or [],
        subject,
        include_presets,
    )
    if wants_csv(request.headers.get("accept"), format):
        names = list(group_by or [])

        def csv_rows() -> Iterator[list[Any]]:
            for t in summary.totals:
                yield [t.meter, *(t.group[n] for n in names), t.value, t.unit or ""]

        return stream_csv(csv_lines(["meter", *names, "value", "unit"], csv_rows()), "summary.csv")
    data = [
        {"meter": t.meter, "unit": t.unit, "group": t.group, "value": t.value}
        for t in summary.totals
    ]
    return JSON({"from": format_time(summary.start), "to": format_time(summary.end), "data": data})
