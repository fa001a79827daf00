"""Fast JSON responses (orjson) and streamed CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Iterator
from decimal import Decimal
from typing import Any

import orjson
from starlette.concurrency import iterate_in_threadpool
from starlette.responses import Response, StreamingResponse

# The media types of the files the server ships (dashboard, API docs), by suffix.
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}


class JSON(Response):
    media_type = "application/json"

    def __init__(
        self, content: Any, status_code: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(content, status_code, headers)

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS, default=_decimal)
        except orjson.JSONEncodeError:  # an integer past 64 bits: a sum, say
            return orjson.dumps(_wide(content), option=orjson.OPT_NON_STR_KEYS, default=_decimal)


def _decimal(value: Any) -> Any:
    """Exact sums that a float cannot show (core.numbers.to_number) go out as written."""
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))
    raise TypeError(f"{type(value).__name__} is not JSON")


def _wide(value: Any) -> Any:
    """`value` with integers past 64 bits as JSON number text, which orjson cannot write."""
    if isinstance(value, dict):
        return {k: _wide(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wide(v) for v in value]
    if isinstance(value, int) and not -(2**63) <= value < 2**64:
        return orjson.Fragment(str(value))
    return value


def wants_csv(accept: str | None, fmt: str | None = None) -> bool:
    return fmt == "csv" or (accept is not None and "text/csv" in accept)


def csv_lines(header: list[str], rows: Iterable[Iterable[Any]]) -> Iterator[bytes]:
    """CSV as byte chunks, a few thousand rows at a time."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for n, row in enumerate(rows, start=1):
        writer.writerow(row)
        if n % 2000 == 0:
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode()


def stream_csv(chunks: Iterator[bytes], filename: str | None = None) -> StreamingResponse:
    """Stream chunks produced by blocking code (database pages) from a worker thread."""

    async def body() -> AsyncIterator[bytes]:
        async for chunk in iterate_in_threadpool(chunks):
            yield chunk

    headers = {"Content-Disposition": f'attachment; filename="{filename}"'} if filename else None
    return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers=headers)
