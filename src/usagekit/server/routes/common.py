"""Helpers shared by routes: body limits, cursors, time formatting, threads."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from usagekit.core.events import format_time
from usagekit.server.body_limit import too_big
from usagekit.server.errors import ApiError

T = TypeVar("T")


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or 413 as soon as it is known to be over `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, too_big(int(declared), limit))
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, too_big(size, limit, at_least=True))
        parts.append(chunk)
    return b"".join(parts)


def encode_cursor(*parts: int) -> str:
    return base64.urlsafe_b64encode(":".join(map(str, parts)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, n: int) -> tuple[int, ...]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        parts = tuple(int(p) for p in raw.split(":"))
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "cursor: not a cursor returned by this API", "cursor") from None
    if len(parts) != n:
        raise ApiError(400, "cursor: not a cursor returned by this API", "cursor")
    return parts


def iso(ms: int | None) -> str | None:
    return None if ms is None else format_time(ms)


async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking read (a database query) off the event loop."""
    return await run_in_threadpool(fn, *args, **kwargs)
