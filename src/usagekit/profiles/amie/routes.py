"""AMIE usage API (amieclient's UsageClient): records in, failures, status, summary.

`UsageClient(site_name=<tenant>, api_key=<key>, usage_url="http://HOST:PORT/amie/")`
sends `XA-API-KEY` (a usagekit key, ingest role or admin) and `XA-SITE` (the
key's tenant name). Every error under /amie/ is `{"error": "..."}`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from usagekit.core import params
from usagekit.core.clock import END_OF_TIME
from usagekit.core.events import _datetime_ms
from usagekit.core.records import Role
from usagekit.profiles.amie import registry_routes
from usagekit.profiles.amie import reports as amie_reports
from usagekit.profiles.amie import service as amie
from usagekit.server.auth import Can, Principal, admit, client_address, ctx
from usagekit.server.errors import ApiError
from usagekit.server.profiles import Routes
from usagekit.server.responses import JSON
from usagekit.server.routes.common import in_thread, read_body

PREFIX = "/amie"
BODY_LIMIT = 1024 * 1024  # AMIE's request size limit: 1024 KiB
router = APIRouter(prefix=PREFIX)


async def _site(request: Request, need: Can) -> Principal:
    """The key in XA-API-KEY, if XA-SITE names its tenant; else 401 (403 for its role)."""
    context = ctx(request)
    secret = request.headers.get("xa-api-key")
    site = request.headers.get("xa-site")
    if not secret:
        raise ApiError(401, "missing XA-API-KEY header: send a usagekit API key")
    key = await context.authenticate(secret, client_address(request))
    if key is None:
        raise ApiError(401, "unknown or revoked API key in XA-API-KEY")
    if site != key.tenant_name:
        raise ApiError(401, f"XA-SITE {site!r} is not the site (tenant) of this API key")
    if need is Can.READ and key.role is not Role.READ:
        need = Can.SEND  # the site's own ingest key reads its status and failures
    return admit(context, key, need)


async def sender(request: Request) -> Principal:
    return await _site(request, Can.SEND)


async def reader(request: Request) -> Principal:
    return await _site(request, Can.READ)


async def fixer(request: Request) -> Principal:
    return await _site(request, Can.FIX_FAILURES)


Sender = Annotated[Principal, Depends(sender)]
Reader = Annotated[Principal, Depends(reader)]
Fixer = Annotated[Principal, Depends(fixer)]
FromTime = Annotated[str | None, Query(alias="FromTime")]
ToTime = Annotated[str | None, Query(alias="ToTime")]


@router.post("/usage/")
@router.post("/usage", include_in_schema=False)
async def send(request: Request, who: Sender) -> Response:
    """One usage message: good records stored once, failures in the reply or kept."""
    context = ctx(request)
    body = await read_body(request, BODY_LIMIT)
    reply = await context.writer.run(amie.send, who.caller, body)
    return JSON(reply)


@router.get("/usage/failed")
async def failed(request: Request, who: Reader) -> Response:
    """Records that failed processing, each with its FailedRecordID."""
    got = await in_thread(amie_reports.failed, ctx(request).store, who.caller)
    return JSON(got)


@router.delete("/usage/failed/{ids}")
async def clear(request: Request, ids: str, who: Fixer) -> Response:
    """Clear failed records by FailedRecordID (comma-separated)."""
    wanted = [params.row_id(part, "FailedRecordID") for part in ids.split(",") if part.strip()]
    if not wanted:
        raise ApiError(400, "no FailedRecordID given")
    reply = await ctx(request).writer.run(amie.clear, who.caller, wanted)
    return JSON(reply)


def when(value: str | None, name: str, default: int) -> int:
    """An ISO 8601 query parameter (UTC when it has no offset) as Unix ms."""
    if not value:
        return default
    text = value.strip()
    if "T" in text and " " in text:  # an unencoded '+' of an offset arrives as a space
        text = text.replace(" ", "+")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(400, f"{name}: {value[:40]!r} is not ISO 8601", name) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return _datetime_ms(dt)


def _window(start: str | None, end: str | None) -> tuple[int, int]:
    lo, hi = when(start, "FromTime", 0), when(end, "ToTime", END_OF_TIME)
    if hi < lo:
        raise ApiError(400, "ToTime is before FromTime", "ToTime")
    return lo, hi


@router.get("/usage/status")
async def status(
    request: Request, who: Reader, start: FromTime = None, end: ToTime = None
) -> Response:
    """Per resource: records loaded and failed in [FromTime, ToTime) of processing time."""
    lo, hi = _window(start, end)
    got = await in_thread(amie_reports.status, ctx(request).store, who.caller, lo, hi)
    return JSON(got)


@router.get("/usage/summary")
async def summary(
    request: Request, who: Reader, start: FromTime = None, end: ToTime = None
) -> Response:
    """Net charges per project and resource by usage type (usagekit's; upstream has none)."""
    lo, hi = _window(start, end)
    context = ctx(request)
    got = await in_thread(amie_reports.summary, context.store, context.query, who.caller, lo, hi)
    return JSON(got)


def error(
    request: Request, status: int, message: str, param: str | None, headers: dict[str, str] | None
) -> Response:
    """AMIE's error body: `{"error": "..."}` (what amieclient reads)."""
    return JSON({"error": message}, status, headers)


ROUTES = Routes(router, ((PREFIX + "/", error),), native=(registry_routes.router,))
