"""Helpers shared by routes: body limits, cursors, time formatting, threads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Path, Request
from starlette.concurrency import run_in_threadpool

from usagekit.core import params
from usagekit.core.events import format_time
from usagekit.server.body_limit import too_big
from usagekit.server.errors import ApiError
from usagekit.services.ingest import IngestResult, Rejection

T = TypeVar("T")


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or 413 as soon as it is known to be over `limit` bytes.

    The body-limit middleware already holds every body to the server's limit; this
    holds a route to a lower one of its own (AMIE's 1024 KiB).
    """
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, too_big(int(declared), limit))
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, too_big(size, limit, at_least=True))
        parts.append(chunk)
    return b"".join(parts)


# A row id in a path (failure ids, event seqs): positive and signed 64-bit, as SQL keeps it.
RowId = Annotated[int, Path(ge=1, le=params.MAX_ID)]
encode_cursor = params.encode_cursor


def decode_cursor(cursor: str, n: int) -> tuple[int, ...]:
    """The n integers of a cursor from encode_cursor; 400 naming `cursor` otherwise."""
    return params.cursor(cursor, n)


def text_param(value: str | None, param: str) -> str | None:
    """An optional name or label from the query string (no NUL, at most 256 characters)."""
    return None if value is None else params.text(value, param)


def iso(ms: int | None) -> str | None:
    return None if ms is None else format_time(ms)


async def in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking read (a database query) off the event loop."""
    return await run_in_threadpool(fn, *args, **kwargs)


def rejection_json(r: Rejection) -> dict[str, Any]:
    return {"index": r.index, "id": r.id, "error": r.error}


def ingest_json(result: IngestResult) -> dict[str, Any]:
    """IngestOut: what ingest (or a retry) did with the records."""
    return {
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "conflicts": len(result.conflicting),
        "rejected": [rejection_json(r) for r in result.rejected],
        "conflicting": [rejection_json(r) for r in result.conflicting],
        "failures_not_kept": result.failures_not_kept,
    }
