"""Civis `client.usage`: LLM and matching usage under /civis/, HTTP Basic auth.

`civis.APIClient()` with CIVIS_API_ENDPOINT=http://HOST:PORT/civis/ first reads
GET endpoints (our Swagger document, civis_spec.SPEC) and builds its methods
from it; the key travels as the Basic user name (Bearer works too).
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from usagekit.profiles.civis import service as civis
from usagekit.profiles.civis.spec import SPEC
from usagekit.server.auth import Can, Principal, authorize, bearer, ctx
from usagekit.server.profiles import Routes
from usagekit.server.responses import JSON
from usagekit.server.routes.common import RowId, in_thread

PREFIX = "/civis"
router = APIRouter(prefix=PREFIX)


def basic_user(header: str | None) -> str | None:
    """The user name of an HTTP Basic Authorization header (Civis puts the key there)."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        raw = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return raw.partition(":")[0] or None


async def caller(request: Request) -> Principal:
    header = request.headers.get("authorization")
    secret = basic_user(header) or bearer(header)
    how = "use HTTP Basic auth with the API key as the user name"
    return await authorize(request, secret, Can.READ, how)


Who = Annotated[Principal, Depends(caller)]


@router.get("/endpoints")
async def endpoints(who: Who) -> Response:
    """The Swagger 2.0 description of the usage paths."""
    return JSON(SPEC)


@router.get("/usage/llm")
async def list_llm(
    request: Request,
    who: Who,
    org_id: int | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
) -> Response:
    lo, hi = civis.date_range(start_date, end_date, clock=ctx(request).clock)
    store = ctx(request).store
    return JSON(await in_thread(civis.list_llm, store, who.caller, org_id, lo, hi))


@router.get("/usage/llm/organization/{org_id}/summary")
async def org_summary(
    request: Request,
    who: Who,
    org_id: int,
    start_date: str | None = None,
    end_date: str | None = None,
) -> Response:
    lo, hi = civis.date_range(start_date, end_date, clock=ctx(request).clock)
    context = ctx(request)
    return JSON(
        await in_thread(civis.org_summary, context.store, context.query, who.caller, org_id, lo, hi)
    )


@router.get("/usage/llm/{stat_id}")
async def get_llm(request: Request, who: Who, stat_id: RowId) -> Response:
    return JSON(await in_thread(civis.get_llm, ctx(request).store, who.caller, stat_id))


@router.get("/usage/matching")
async def list_matching(
    request: Request,
    who: Who,
    org_id: int | None = None,
    task: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
) -> Response:
    lo, hi = civis.date_range(start_date, end_date, defaults=False)
    store = ctx(request).store
    return JSON(await in_thread(civis.list_matching, store, who.caller, org_id, task, lo, hi))


CODES = {400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         429: "too_many_requests", 500: "internal_error"}  # fmt: skip


def civis_error(
    request: Request, status: int, message: str, param: str | None, headers: dict[str, str] | None
) -> Response:
    """The Civis API's error body, whose errorDescription the client shows."""
    body: dict[str, Any] = {"error": CODES.get(status, "error"), "errorDescription": message,
                            "code": status}  # fmt: skip
    return JSON(body, status, headers)


ROUTES = Routes(router, ((PREFIX + "/", civis_error),))
