"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from usagekit import __version__
from usagekit.server.auth import ctx
from usagekit.server.models import HealthDown, HealthOut
from usagekit.server.responses import JSON
from usagekit.server.routes.common import in_thread
from usagekit.services import health

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    response_model=HealthOut,
    responses={503: {"model": HealthDown, "description": "the database does not answer"}},
)
async def healthz(request: Request) -> Response:
    """200 when the database answers; no key needed."""
    found = await in_thread(health.check, ctx(request).store)
    if not found.ok:
        return JSON({"status": "unavailable", "error": found.error}, 503)
    return JSON({"status": "ok", "version": __version__, "backend": found.backend})
