"""The body limit, for every route: checked before any route reads or parses a body.

An ASGI middleware: a declared Content-Length over the limit, or streamed bytes
(chunked bodies) running past it, make reading the body raise a 413 HTTPException,
which the app's error handlers answer in the route's shape (native or vendor).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def too_big(size: int, limit: int, *, at_least: bool = False) -> str:
    """The 413 message, the same on every route (ingest's wording)."""
    amount = f"at least {size}" if at_least else str(size)
    return (
        f"body of {amount} bytes is over the {limit}-byte limit; "
        "nothing was stored, send smaller batches"
    )


class BodyTooLarge(HTTPException):
    def __init__(self, message: str) -> None:
        super().__init__(413, message)


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        declared = _content_length(scope)
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            if declared is not None and declared > limit:
                raise BodyTooLarge(too_big(declared, limit))
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(too_big(seen, limit, at_least=True))
            return message

        await self.app(scope, limited, send)


def _content_length(scope: Scope) -> int | None:
    """The declared length, or None when absent or not a plain number (h11 refuses those)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isascii() and text.isdigit() else None
    return None
