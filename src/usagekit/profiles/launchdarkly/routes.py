"""LaunchDarkly Account usage (beta) API under /api/v2/usage/: every row of ENDPOINTS.

`launchdarkly_api.Configuration(host="http://HOST:PORT")` with
`api_key["ApiKey"] = <usagekit key>` sends the key as the bare Authorization
header value (a Bearer header works too). One generic handler serves every row;
errors are LaunchDarkly's `{"code", "message"}`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from usagekit.profiles.launchdarkly import service as launchdarkly
from usagekit.profiles.launchdarkly.endpoints import ENDPOINTS
from usagekit.profiles.launchdarkly.model import Endpoint
from usagekit.server.auth import Can, Principal, authorize, bearer, ctx
from usagekit.server.errors import CODES
from usagekit.server.profiles import Routes
from usagekit.server.responses import JSON
from usagekit.server.routes.common import in_thread

PREFIX = "/api/v2/usage"
router = APIRouter(prefix=PREFIX)


def api_key(header: str | None) -> str | None:
    """The key from `Authorization: <key>` (LaunchDarkly's way) or `Bearer <key>`."""
    if not header or not header.strip():
        return None
    token = bearer(header)
    if token is not None:
        return token
    text = header.strip()
    return None if " " in text else text


async def caller(request: Request) -> Principal:
    secret = api_key(request.headers.get("authorization"))
    how = "send the API key as the Authorization header value"
    return await authorize(request, secret, Can.READ, how)


Who = Annotated[Principal, Depends(caller)]


def handler(ep: Endpoint) -> Callable[[Request, Principal], Awaitable[Response]]:
    """The route of one endpoint row: all the work is the row's and the service's."""

    async def route(request: Request, who: Who) -> Response:
        context = ctx(request)
        url = request.url
        href = url.path + (f"?{url.query}" if url.query else "")
        body = await in_thread(
            launchdarkly.usage,
            context.store,
            context.query,
            who.caller,
            ep,
            request.path_params,
            request.query_params.multi_items(),
            href,
        )
        return JSON(body)

    route.__name__ = ep.method
    route.__doc__ = f"LaunchDarkly {ep.method}: {ep.reply.value} from preset {ep.meter}."
    return route


for _ep in ENDPOINTS:
    router.add_api_route(_ep.path, handler(_ep), methods=["GET"], name=_ep.method)

LD_CODES = {**CODES, 500: "internal_server_error", 503: "service_unavailable"}


def ld_error(
    request: Request, status: int, message: str, param: str | None, headers: dict[str, str] | None
) -> Response:
    """LaunchDarkly's error body, which the client's *ErrorRep models read."""
    return JSON({"code": LD_CODES.get(status, "error"), "message": message}, status, headers)


ROUTES = Routes(router, ((PREFIX + "/", ld_error),))
