"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text
from starlette.responses import Response

from usagekit import __version__
from usagekit.server.auth import ctx
from usagekit.server.responses import JSON
from usagekit.server.routes.common import blocking

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(request: Request) -> Response:
    """200 when the database answers; no key needed."""
    store = ctx(request).store

    def ping() -> None:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    try:
        await blocking(ping)
    except Exception as exc:  # any database failure means "not healthy"
        return JSON({"status": "unavailable", "error": type(exc).__name__}, 503)
    return JSON({"status": "ok", "version": __version__, "backend": store.backend})
