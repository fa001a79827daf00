"""POST /v1/events, listing, export and voids."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from usagekit.core.events import format_time
from usagekit.core.records import StoredEvent
from usagekit.server.auth import Can, Principal, ctx, require
from usagekit.server.models import EventPage, IngestOut, VoidIn, VoidOut
from usagekit.server.responses import JSON, stream_csv
from usagekit.server.routes.common import (
    decode_cursor,
    encode_cursor,
    in_thread,
    ingest_json,
    iso,
    read_body,
    text_param,
)
from usagekit.services import events, metrics
from usagekit.services.export import events_csv
from usagekit.services.ingest import IngestResult, prepare
from usagekit.services.queries.spec import parse_instant

router = APIRouter(prefix="/v1/events", tags=["events"])

# The body is read by `prepare` (msgspec, then record by record), not by FastAPI: this
# documents what it takes. The schemas are components (server.openapi.COMPONENTS).
# NDJSON is told in words only: openapi-python-client cannot generate a body that is
# either JSON (with an array form) or another media type.
_EVENT = {"$ref": "#/components/schemas/EventIn"}
_BODY_DOC = {
    "requestBody": {
        "required": True,
        "description": (
            'A JSON array of events, {"events": [...]}, or one event. NDJSON is taken too '
            "(Content-Type: application/x-ndjson, one event per line)."
        ),
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"type": "array", "items": _EVENT},
                        {"$ref": "#/components/schemas/EventBatch"},
                        _EVENT,
                    ]
                }
            },
        },
    }
}


@router.post(
    "",
    status_code=202,
    response_model=IngestOut,
    openapi_extra=_BODY_DOC,
)
async def send_events(
    request: Request, who: Annotated[Principal, Depends(require(Can.SEND))]
) -> Response:
    """Store events exactly once; each record is judged on its own. Replies after commit."""
    context = ctx(request)
    limit = context.settings.body_limit
    with context.admission.admit(declared_size(request, limit)):
        body = await read_body(request, limit)
        content_type = request.headers.get("content-type", "")
        prepared = await in_thread(prepare, context.meters, who.caller, body, content_type)
        outcome = await context.writer.ingest(prepared.job)
        result = prepared.result(outcome)
        count_events(result)
        return JSON(ingest_json(result), 202)


def count_events(result: IngestResult) -> None:
    """Add a body's outcome to the events metric (series made once, cheap per request)."""
    for outcome, n in (
        ("accepted", result.accepted),
        ("duplicate", result.duplicates),
        ("conflict", len(result.conflicting)),
        ("rejected", len(result.rejected)),
    ):
        if n:
            _EVENT_SERIES[outcome].inc(n)


_EVENT_SERIES = {
    outcome: metrics.EVENTS.labels(outcome)
    for outcome in ("accepted", "duplicate", "conflict", "rejected")
}


def declared_size(request: Request, limit: int) -> int:
    """The bytes a body will hold as far as admission can tell: its Content-Length, or
    the body limit when it is not declared (or declared over it: that is a 413 anyway)."""
    declared = request.headers.get("content-length", "")
    return (
        int(declared)
        if declared.isascii() and declared.isdigit() and int(declared) <= limit
        else limit
    )


def time_param(value: str | None, param: str) -> int | None:
    return parse_instant(value, param) if value else None


def event_json(e: StoredEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "source": e.source,
        "type": e.type,
        "subject": e.subject,
        "time": format_time(e.time_ms),
        "data": e.data,
        "received": format_time(e.received_ms),
        "voided": e.voided_ms is not None,
        "voided_at": iso(e.voided_ms),
    }


@router.get("", response_model=EventPage)
async def list_events(
    request: Request,
    who: Annotated[Principal, Depends(require(Can.READ))],
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
    type: str | None = None,
    subject: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
) -> Response:
    """Stored events, newest first, voided ones included and marked."""
    type, subject = text_param(type, "type"), text_param(subject, "subject")
    after = decode_cursor(cursor, 2) if cursor else None
    page = await in_thread(
        events.page,
        ctx(request).store,
        who.caller,
        lo=time_param(from_, "from"),
        hi=time_param(to, "to"),
        type_=type,
        subject=subject,
        after=(after[0], after[1]) if after else None,
        limit=limit,
    )
    last = page.rows[-1] if page.more else None
    next_cursor = encode_cursor(last.time_ms, last.seq) if last else None
    return JSON({"data": [event_json(e) for e in page.rows], "next_cursor": next_cursor})


@router.get("/export", responses={200: {"content": {"text/csv": {}}}})
async def export_events(
    request: Request,
    who: Annotated[Principal, Depends(require(Can.READ))],
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
    type: str | None = None,
) -> Response:
    """Every event in the range as CSV, streamed page by page (flat memory)."""
    type = text_param(type, "type")
    chunks = events_csv(
        ctx(request).store, who.caller, time_param(from_, "from"), time_param(to, "to"), type
    )
    return stream_csv(chunks, "events.csv")


@router.post("/void", response_model=VoidOut)
async def void_events(
    request: Request, body: VoidIn, who: Annotated[Principal, Depends(require(Can.VOID))]
) -> Response:
    """Remove events from every aggregate; they stay listed as voided.

    Idempotent: ids voided before are listed in `already_voided` with their time.
    """
    context = ctx(request)
    done = await context.writer.run(events.void, who.caller, body.source, body.ids)
    already = [{"id": i, "voided_at": iso(ms)} for i, ms in done.already.items()]
    return JSON({"voided": done.voided, "already_voided": already, "not_found": done.not_found})
