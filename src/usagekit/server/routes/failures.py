"""Rejected and unprocessable records: list, clear, retry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from usagekit.core.events import format_time
from usagekit.core.records import Failure
from usagekit.server.auth import Can, Principal, ctx, require
from usagekit.server.models import FailurePage, RetryOut
from usagekit.server.responses import JSON
from usagekit.server.routes.common import (
    RowId,
    decode_cursor,
    encode_cursor,
    in_thread,
    ingest_json,
    text_param,
)
from usagekit.services import failures

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
    channel = text_param(channel, "channel")
    page = await in_thread(
        failures.page, ctx(request).store, who.caller, after_id=after, limit=limit, channel=channel
    )
    return JSON(
        {
            "data": [failure_json(f) for f in page.rows],
            "next_cursor": encode_cursor(page.rows[-1].id) if page.more else None,
        }
    )


@router.delete("/{failure_id}", status_code=204)
async def clear_failure(
    request: Request,
    failure_id: RowId,
    who: Annotated[Principal, Depends(require(Can.FIX_FAILURES))],
) -> Response:
    await ctx(request).writer.run(failures.clear_failure, who.caller, failure_id)
    return Response(status_code=204)


@router.post("/{failure_id}/retry", response_model=RetryOut)
async def retry_failure(
    request: Request,
    failure_id: RowId,
    who: Annotated[Principal, Depends(require(Can.FIX_FAILURES))],
) -> Response:
    """Submit the record again (after fixing its cause, such as a conflicting original).

    Stored (or already there): the failure is cleared. Still bad: it stays, untouched.
    """
    retried = await ctx(request).writer.run(failures.retry_failure, who.caller, failure_id)
    return JSON({"cleared": retried.cleared, "result": ingest_json(retried.result)})
