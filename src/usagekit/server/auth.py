"""Who is calling: Bearer keys, roles, the caller's scope and the rate limits (per key,
per address)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from usagekit.core.records import ApiKey, Role
from usagekit.server.context import Context
from usagekit.server.errors import ApiError
from usagekit.services.caller import Caller
from usagekit.services.logs import CURRENT


class Can(StrEnum):
    SEND = "send events"
    READ = "read usage"
    FIX_FAILURES = "clear or retry failures"
    VOID = "void events"
    MANAGE = "manage meters and keys"
    TENANTS = "manage tenants"


GRANTS: dict[Role, frozenset[Can]] = {
    Role.ADMIN: frozenset(Can) - {Can.TENANTS},
    Role.INGEST: frozenset({Can.SEND, Can.FIX_FAILURES}),
    Role.READ: frozenset({Can.READ}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """An admitted key and the `Caller` (tenant and subject scope) built from it once.

    Routes hand `caller` to the services, which apply the scope themselves.
    """

    key: ApiKey
    caller: Caller

    @classmethod
    def of(cls, key: ApiKey) -> Principal:
        return cls(key, Caller.of(key))

    @property
    def tenant_id(self) -> int:
        return self.key.tenant_id

    @property
    def is_superadmin(self) -> bool:
        return self.caller.superadmin


def ctx(request: Request) -> Context:
    context: Context = request.app.state.ctx
    return context


def client_address(request: Request) -> str:
    """The caller's address (uvicorn takes it from X-Forwarded-For behind a trusted proxy)."""
    return request.client.host if request.client else "unknown"


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


async def authorize(request: Request, secret: str | None, need: Can, how: str) -> Principal:
    """The caller behind `secret` if it may do `need`; else 401, 403 or 429.

    `how` tells a caller without a key how to send one (it differs per profile).
    """
    if not secret:
        raise ApiError(401, f"missing API key: {how}", headers={"WWW-Authenticate": "Bearer"})
    context = ctx(request)
    key = await context.authenticate(secret, client_address(request))
    if key is None:
        raise ApiError(401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})
    return admit(context, key, need)


def throttle(context: Context, key: ApiKey) -> None:
    """429 when `key` is over its rate limit (one budget across every worker process)."""
    wait = context.limiter.check(key.id)
    if wait > 0:
        raise ApiError(
            429,
            f"rate limit of {context.settings.rate_limit:g} requests/s for this key "
            "exceeded; retry later",
            headers={"Retry-After": context.retry_after(wait)},
        )


def admit(context: Context, key: ApiKey, need: Can) -> Principal:
    """A known, live key: 429 over its rate limit, 403 when its role may not do `need`."""
    request = CURRENT.get()
    if request is not None:  # named in the request's log line, by id only
        request.key_id, request.tenant_id = key.id, key.tenant_id
    throttle(context, key)
    principal = Principal.of(key)
    allowed = GRANTS[key.role] | ({Can.TENANTS} if principal.is_superadmin else set())
    if need not in allowed:
        raise ApiError(403, f"a key with role {key.role.value!r} cannot {need.value}")
    return principal


# Declares the scheme in /openapi.json (each route that needs a key says so; /docs has
# Authorize); it never answers itself: `authorize` gives usagekit's 401.
BEARER = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="API key",
    description="an API key: `Authorization: Bearer <key>`",
    auto_error=False,
)
Sent = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]


def require(need: Can) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits Bearer keys allowed to do `need`, else 401/403/429."""

    async def dependency(request: Request, sent: Sent) -> Principal:
        token = sent.credentials.strip() if sent else None
        return await authorize(request, token, need, "send 'Authorization: Bearer <key>'")

    return dependency
