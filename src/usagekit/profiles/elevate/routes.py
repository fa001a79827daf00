"""Earnix Elevate usage monitoring: token exchange, metric totals, CSV download.

`earnix-elevate`'s UsageMonitoringService with server="localhost" talks to
http://localhost:8200, usagekit's default port. clientId is a usagekit key's id,
secret the key itself; the access token is a JWT (HS256, one hour, `exp` required)
signed with a per-tenant key derived from the server secret (server.secret) and a
salt kept in the database: neither alone can sign, and every server process
sharing both accepts the tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from usagekit.core.clock import END_OF_TIME
from usagekit.profiles.elevate import service as elevate
from usagekit.server.auth import Can, Principal, admit, bearer, client_address, ctx, throttle
from usagekit.server.errors import ApiError
from usagekit.server.profiles import Routes
from usagekit.server.responses import JSON, stream_csv
from usagekit.server.routes.common import in_thread
from usagekit.server.secret import derive
from usagekit.services.errors import InvalidInput
from usagekit.services.queries.spec import parse_instant

TOKEN_SECONDS = 3600
REQUIRED_CLAIMS = ["exp", "iat", "sub", "tid"]
router = APIRouter()


class Exchange(BaseModel):
    client_id: str = Field(alias="clientId", min_length=1, max_length=64)
    secret: str = Field(min_length=1, max_length=512)


@router.post("/exchange-auth-code")
async def exchange(request: Request, body: Exchange) -> Response:
    """Trade a key id and key for a bearer JWT with `exp` (what the client caches).

    A failed exchange spends the address's failure budget, a good one the key's rate.
    """
    context, client = ctx(request), client_address(request)
    key = await context.authenticate(body.secret, client)
    if key is not None and key.id != body.client_id:
        context.failed(client)
        key = None
    if key is None:
        raise ApiError(401, "invalid clientId or secret")
    throttle(context, key)
    now = context.clock.now_ms() // 1000
    claims = {"sub": key.id, "tid": key.tenant_id, "iat": now, "exp": now + TOKEN_SECONDS}
    token = jwt.encode(claims, await _signing_key(request, key.tenant_id), algorithm="HS256")
    return JSON({"accessToken": token, "expiresIn": TOKEN_SECONDS})


async def _signing_key(request: Request, tenant_id: int) -> bytes:
    """The tenant's token key: HMAC of the server secret over the database salt and tenant.

    Derived per call (about a microsecond), so tokens naming made-up tenants fill no cache.
    """
    state = request.app.state
    salt: str | None = getattr(state, "elevate_salt", None)
    if salt is None:
        salt = await in_thread(elevate.token_salt, ctx(request).store)
        state.elevate_salt = salt
    return derive(ctx(request).secret(), "elevate-token", salt, tenant_id)


async def _claims(request: Request, token: str) -> tuple[str, int]:
    """(key id, tenant id) of a token signed with its tenant's key and not expired."""
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
        tenant_id = unverified.get("tid")
        if type(tenant_id) is not int or not 0 < tenant_id < 2**63:
            raise ValueError("tid")
        claims = jwt.decode(
            token,
            await _signing_key(request, tenant_id),
            algorithms=["HS256"],
            options={"require": REQUIRED_CLAIMS, "verify_exp": False},
        )
        exp = claims["exp"]  # checked against the server's clock, not PyJWT's
        if type(exp) not in (int, float) or exp <= ctx(request).clock.now_ms() / 1000:
            raise ValueError("exp")
        return str(claims["sub"]), tenant_id
    except (jwt.PyJWTError, AttributeError, TypeError, ValueError):
        raise ApiError(401, "invalid or expired access token") from None


async def caller(request: Request) -> Principal:
    """The key behind a valid, unexpired token, if it is still live and may read usage.

    A bad token spends the address's failed-authentication budget, as a bad key does.
    """
    token = bearer(request.headers.get("authorization"))
    if token is None:
        raise ApiError(401, "missing bearer token; POST /exchange-auth-code first")
    context, client = ctx(request), client_address(request)
    context.refuse_while_failing(client)
    try:
        key_id, tenant_id = await _claims(request, token)
    except ApiError:
        context.failed(client)
        raise
    key = await in_thread(elevate.token_key, context.store, tenant_id, key_id)
    if key is None:
        raise ApiError(401, "the key behind this token was revoked")
    return admit(context, key, Can.READ)


@dataclass(frozen=True, slots=True)
class Asked:
    """The query both routes take: a known metricType and [startDate, endDate) in ms."""

    metric_type: str
    lo: int
    hi: int


def asked(
    metric_type: Annotated[str | None, Query(alias="metricType")] = None,
    start: Annotated[str | None, Query(alias="startDate")] = None,
    end: Annotated[str | None, Query(alias="endDate")] = None,
) -> Asked:
    elevate.metric(metric_type)
    lo = parse_instant(start, "startDate") if start else 0
    hi = parse_instant(end, "endDate") if end else END_OF_TIME
    if hi <= lo:
        raise InvalidInput("endDate must be after startDate", "endDate")
    return Asked(str(metric_type), lo, hi)


Who = Annotated[Principal, Depends(caller)]
What = Annotated[Asked, Depends(asked)]


@router.get("/api/umon/v1/usage-metrics")
async def usage_summary(request: Request, who: Who, what: What) -> Response:
    """{"metricType", "totalValue"} over [startDate, endDate) for the token's tenant."""
    context = ctx(request)
    value = await in_thread(
        elevate.total,
        context.store,
        context.query,
        who.caller,
        what.metric_type,
        what.lo,
        what.hi,
    )
    return JSON({"metricType": what.metric_type, "totalValue": value})


@router.get("/api/umon/v1/usage-metrics/download")
async def download(request: Request, who: Who, what: What) -> Response:
    """Every job event carrying the metric, as CSV streamed a database page at a time."""
    rows = elevate.job_rows_csv(ctx(request).store, who.caller, what.metric_type, what.lo, what.hi)
    return stream_csv(rows, f"usage-{what.metric_type.lower()}.csv")


def problem(
    request: Request,
    status: int,
    message: str,
    param: str | None,
    headers: dict[str, str] | None,
) -> Response:
    """RFC 9457 problem details, with the fields Elevate's ProblemDetail requires."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": message,
        "instance": request.url.path,
        "code": f"E{status}" if param is None else f"E{status}_{param.upper()}",
        "timestamp": _timestamp(ctx(request).clock.now_ms()),
    }
    reply = JSON(body, status, headers)
    reply.headers["content-type"] = "application/problem+json"
    return reply


def _timestamp(ms: int) -> str:
    """Unix ms as RFC 3339 UTC with milliseconds, as Elevate writes it."""
    at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


ROUTES = Routes(router, (("/api/umon/", problem), ("/exchange-auth-code", problem)))
