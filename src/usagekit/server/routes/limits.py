"""Limits and entitlement checks: definitions, and a limit's status for a subject."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from usagekit.core.events import format_time
from usagekit.core.limits import Limit
from usagekit.core.windows import format_local, zone
from usagekit.server.auth import Can, Principal, ctx, require
from usagekit.server.models import LimitIn, LimitOut, LimitPatch, LimitStatusOut, LimitSubjectsOut
from usagekit.server.responses import JSON
from usagekit.server.routes.common import in_thread
from usagekit.services import limit_subjects, limits

router = APIRouter(tags=["limits"])

At = Annotated[
    str | None,
    Query(description="the instant whose period is reported (RFC 3339 or Unix ms; default now)"),
]


def limit_json(limit: Limit) -> dict[str, Any]:
    return {
        "slug": limit.slug,
        "meter": limit.meter,
        "period": limit.period.value,
        "tz": limit.tz,
        "limit": limit.value,
        "thresholds": limit.percents,
        "scope": limit.scope.value,
        "filter": {name: list(values) for name, values in limit.filters.items()},
        "description": limit.description,
        "created": format_time(limit.created_ms),
        "updated": format_time(limit.updated_ms),
    }


def status_json(found: limits.Status) -> dict[str, Any]:
    limit, standing, tz = found.limit, found.standing, zone(found.limit.tz)
    return {
        "slug": limit.slug,
        "scope": limit.scope.value,
        "subject": found.subject,
        "usage": standing.usage,
        "limit": limit.value,
        "remaining": standing.remaining,
        "has_access": standing.has_access,
        "percent": standing.percent,
        "period_start": format_local(found.period.start, tz),
        "period_end": format_local(found.period.end, tz),
        "thresholds_reached": standing.reached,
    }


@router.post("/v1/limits", status_code=201, response_model=LimitOut)
async def create_limit(
    request: Request, body: LimitIn, who: Annotated[Principal, Depends(require(Can.MANAGE))]
) -> Response:
    """Define a limit on a meter: a value per period, per subject or for the whole tenant."""
    fields = body.model_dump()
    created = await ctx(request).writer.run(limits.create_limit, who.tenant_id, fields)
    return JSON(limit_json(created), 201)


@router.get("/v1/limits", response_model=list[LimitOut])
async def list_limits(
    request: Request, who: Annotated[Principal, Depends(require(Can.READ))]
) -> Response:
    found = await in_thread(limits.listed, ctx(request).store, who.caller)
    return JSON([limit_json(limit) for limit in found])


@router.get("/v1/limits/{slug}", response_model=LimitOut)
async def get_limit(
    request: Request, slug: str, who: Annotated[Principal, Depends(require(Can.READ))]
) -> Response:
    return JSON(limit_json(await in_thread(limits.find, ctx(request).store, who.caller, slug)))


@router.patch("/v1/limits/{slug}", response_model=LimitOut)
async def update_limit(
    request: Request,
    slug: str,
    body: LimitPatch,
    who: Annotated[Principal, Depends(require(Can.MANAGE))],
) -> Response:
    """Change the fields sent; the others stay (a null description clears it)."""
    fields = {name: getattr(body, name) for name in body.model_fields_set}
    changed = await ctx(request).writer.run(limits.update_limit, who.tenant_id, slug, fields)
    return JSON(limit_json(changed))


@router.delete("/v1/limits/{slug}", status_code=204)
async def delete_limit(
    request: Request, slug: str, who: Annotated[Principal, Depends(require(Can.MANAGE))]
) -> Response:
    await in_thread(limits.find, ctx(request).store, who.caller, slug)
    await ctx(request).writer.run(limits.delete_limit, who.tenant_id, slug)
    return Response(status_code=204)


@router.get("/v1/limits/{slug}/status", response_model=LimitStatusOut)
async def limit_status(
    request: Request,
    slug: str,
    who: Annotated[Principal, Depends(require(Can.READ))],
    subject: Annotated[
        str | None, Query(description="required for a per-subject limit, refused otherwise")
    ] = None,
    at: At = None,
) -> Response:
    """Usage against the limit in the period holding `at`: has_access is usage < limit."""
    context = ctx(request)
    found = await in_thread(
        limits.status, context.store, context.query, who.caller, slug, subject, at
    )
    return JSON(status_json(found))


@router.get("/v1/limits/{slug}/subjects", response_model=LimitSubjectsOut)
async def closest_subjects(
    request: Request,
    slug: str,
    who: Annotated[Principal, Depends(require(Can.READ))],
    at: At = None,
    limit: Annotated[
        int, Query(ge=1, le=limit_subjects.MAX_ROWS, description="at most this many subjects")
    ] = limit_subjects.DEFAULT_ROWS,
) -> Response:
    """The subjects closest to the limit in the period holding `at`: usage descending. A
    tenant-wide limit has one row, subject null. Not for a subject-bound key."""
    context = ctx(request)
    found = await in_thread(
        limit_subjects.closest, context.store, context.query, who.caller, slug, at, limit
    )
    tz = zone(found.limit.tz)
    return JSON(
        {
            "period_start": format_local(found.period.start, tz),
            "period_end": format_local(found.period.end, tz),
            "limit": found.limit.value,
            "data": [
                {
                    "subject": row.subject,
                    "usage": row.standing.usage,
                    "remaining": row.standing.remaining,
                    "has_access": row.standing.has_access,
                    "percent": row.standing.percent,
                }
                for row in found.rows
            ],
        }
    )


@router.get("/v1/subjects/{subject}/limits", response_model=list[LimitStatusOut])
async def subject_limits(
    request: Request,
    subject: str,
    who: Annotated[Principal, Depends(require(Can.READ))],
    at: At = None,
) -> Response:
    """Every per-subject limit's status for `subject`, then the tenant-wide limits' (scope
    "tenant", subject null; left out for a subject-bound key)."""
    context = ctx(request)
    found = await in_thread(
        limits.subject_statuses, context.store, context.query, who.caller, subject, at
    )
    return JSON([status_json(s) for s in found])
