"""Geobox usage API under /api/v1/: what `geobox`'s GeoboxClient and AsyncGeoboxClient call.

Point the client at `host="http://HOST:PORT/api/", ver="v1/"`; it sends its key as
`?apikey=` (a Bearer header works too). Errors are `{"detail": ...}`; bad parameters
are 422 with FastAPI's `[{"loc", "msg", "type"}]` detail, which the client turns
into its ValidationError.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from usagekit.profiles.geobox import keys
from usagekit.profiles.geobox import service as geobox
from usagekit.server.auth import Can, authorize, bearer, ctx
from usagekit.server.errors import ApiError
from usagekit.server.profiles import Routes
from usagekit.server.responses import JSON
from usagekit.server.routes.common import in_thread
from usagekit.services.caller import Caller

PREFIX = "/api/v1/"
router = APIRouter(prefix="/api/v1")


async def caller(request: Request) -> Caller:
    """The key from `?apikey=` or `Authorization: Bearer`, if it may read usage."""
    secret = request.query_params.get("apikey") or bearer(request.headers.get("authorization"))
    who = await authorize(
        request, secret, Can.READ, "pass ?apikey=<key> or 'Authorization: Bearer <key>'"
    )
    return who.caller


Who = Annotated[Caller, Depends(caller)]


def _arg(request: Request, name: str) -> str | None:
    return request.query_params.get(name)


@router.get("/users/{user}/")
async def user(request: Request, who: Who, user: str) -> Response:
    """`me` or a user id: the fields the client's User object reads."""
    return JSON(await in_thread(geobox.user_json, ctx(request).store, who, user))


@router.get("/apikeys/")
async def list_apikeys(request: Request, who: Who) -> Response:
    """The user's API keys (admin: another user's with user_id, or all when unbound)."""
    store = ctx(request).store
    wanted = _arg(request, "user_id")
    if wanted or who.key_subject is not None or not who.admin:
        subject: str | None = await in_thread(geobox.target_user, store, who, wanted)
    else:
        subject = None
    skip = geobox.parse_int(_arg(request, "skip"), "skip", 0, 10**9) or 0
    limit = geobox.parse_int(_arg(request, "limit"), "limit", 1, 10_000) or 10
    search, order_by = _arg(request, "search"), _arg(request, "order_by")
    found = await in_thread(
        keys.list_keys, store, who.tenant_id, subject, search, order_by, skip, limit
    )
    return JSON(found)


@router.get("/apikeys/{key_id}/")
async def get_apikey(request: Request, who: Who, key_id: str) -> Response:
    subject = None if who.admin else who.key_subject
    if subject is None and not who.admin:
        raise ApiError(404, f"API key {key_id[:40]!r} not found", "key_id")
    return JSON(await in_thread(keys.get_key, ctx(request).store, who.tenant_id, subject, key_id))


@router.get("/usage/api")
async def api_usage(request: Request, who: Who) -> Response:
    """[{date, value}]: calls or traffic per hour, day or month, newest first."""
    context = ctx(request)
    args = [_arg(request, n) for n in ("eid", "scale", "param", "from_date", "to_date",
                                       "days_before_now", "limit")]  # fmt: skip
    return JSON(await in_thread(geobox.api_usage, context.store, context.query, who, *args))


@router.get("/usage/process")
async def process_usage(request: Request, who: Who) -> Response:
    """Process seconds of a user over the range, as a number."""
    context = ctx(request)
    args = [_arg(request, n) for n in ("user_id", "from_date", "to_date", "days_before_now")]
    return JSON(await in_thread(geobox.process_usage, context.store, context.query, who, *args))


@router.get("/usage/summary")
async def usage_summary(request: Request, who: Who) -> Response:
    """All-time calls, traffic and process seconds of a user."""
    context = ctx(request)
    subject = await in_thread(geobox.target_user, context.store, who, _arg(request, "user_id"))
    return JSON(await in_thread(geobox.summary, context.store, context.query, who, subject))


@router.post("/usage/update")
async def update_usage(request: Request, who: Who) -> Response:
    """Recompute the user's aggregates from raw events, then return the summary."""
    context = ctx(request)
    wanted = _arg(request, "user_id")
    body = await request.body()
    if body.strip():
        try:
            payload: Any = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise ApiError(400, "body: expected a JSON object", "body") from None
        if not isinstance(payload, dict):
            raise ApiError(400, "body: expected a JSON object", "body")
        if payload.get("user_id") is not None:
            wanted = str(payload["user_id"])
    subject = await in_thread(geobox.target_user, context.store, who, wanted)
    await context.writer.run(geobox.recompute_user, who, subject)
    return JSON(await in_thread(geobox.summary, context.store, context.query, who, subject))


def detail(
    request: Request,
    status: int,
    message: str,
    param: str | None,
    headers: dict[str, str] | None,
) -> Response:
    """Geobox's (FastAPI's) error body; a refused parameter is 422 naming it in `loc`."""
    if status == 400:
        status = 422
    body: dict[str, Any]
    if status == 422 and param:
        where = "body" if request.method == "POST" and param in ("body", "user_id") else "query"
        body = {"detail": [{"loc": [where, param], "msg": message, "type": "value_error"}]}
    else:
        body = {"detail": message}
    return JSON(body, status, headers)


ROUTES = Routes(router, ((PREFIX, detail),))
