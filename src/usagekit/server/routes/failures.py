"""Rejected and unprocessable records: list, clear, retry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from usagekit.core.events import InvalidRecord, format_time, parse_record
from usagekit.core.records import Failure
from usagekit.server.auth import Can, Principal, ctx, require
from usagekit.server.errors import ApiError
from usagekit.server.models import FailurePage, RetryOut
from usagekit.server.responses import JSON
from usagekit.server.routes.common import blocking, decode_cursor, encode_cursor
from usagekit.store import TenantBatch

router = APIRouter(prefix="/v1/failures", tags=["failures"])


def failure_json(f: Failure) -> dict[str, Any]:
    return {
        "id": f.id,
        "received": format_time(f.received_ms),
        "channel": f.channel,
        "error": f.error,
        "record": f.record,
    }


@router.get("", response_model=FailurePage)
async def list_failures(
    request: Request,
    who: Annotated[Principal, Depends(require(Can.READ))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
    channel: str | None = None,
) -> Response:
    """Failures, newest first, each with the record verbatim and its error."""
    after = decode_cursor(cursor, 1)[0] if cursor else None
    rows = await blocking(
        ctx(request).store.failures.page,
        who.tenant_id,
        after_id=after,
        limit=limit + 1,
        channel=channel,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return JSON(
        {
            "data": [failure_json(f) for f in rows],
            "next_cursor": encode_cursor(rows[-1].id) if more else None,
        }
    )


async def failure_or_404(request: Request, tenant_id: int, failure_id: int) -> Failure:
    found = await blocking(ctx(request).store.failures.get, tenant_id, failure_id)
    if found is None:
        raise ApiError(404, f"no failure {failure_id}", "failure_id")
    return found


@router.delete("/{failure_id}", status_code=204)
async def clear_failure(
    request: Request, failure_id: int, who: Annotated[Principal, Depends(require(Can.FIX_FAILURES))]
) -> Response:
    await failure_or_404(request, who.tenant_id, failure_id)
    await ctx(request).writer.run(ctx(request).store.failures.delete, who.tenant_id, [failure_id])
    return Response(status_code=204)


@router.post("/{failure_id}/retry", response_model=RetryOut)
async def retry_failure(
    request: Request, failure_id: int, who: Annotated[Principal, Depends(require(Can.FIX_FAILURES))]
) -> Response:
    """Submit the record again (fix it first by voiding a conflicting original, say).

    Stored (or already there): the failure is cleared. Still bad: it stays, untouched.
    """
    context = ctx(request)
    failure = await failure_or_404(request, who.tenant_id, failure_id)
    result: dict[str, Any] = {
        "accepted": 0,
        "duplicates": 0,
        "conflicts": 0,
        "rejected": [],
        "conflicting": [],
    }
    try:
        event = parse_record(failure.record)
    except InvalidRecord as exc:
        result["rejected"] = [{"index": 0, "id": None, "error": str(exc)}]
        return JSON({"cleared": False, "result": result})
    outcome = await context.writer.submit(
        TenantBatch(who.tenant_id, [(0, event)], [], failure.channel, keep_conflicts=False)
    )
    result.update(
        accepted=outcome.accepted, duplicates=outcome.duplicates, conflicts=len(outcome.conflicts)
    )
    if outcome.conflicts:
        result["conflicting"] = [
            {"index": 0, "id": event.id, "error": "id still stored with different content"}
        ]
        return JSON({"cleared": False, "result": result})
    await context.writer.run(context.store.failures.delete, who.tenant_id, [failure_id])
    return JSON({"cleared": True, "result": result})
