"""Tenants and API keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from usagekit.core import params
from usagekit.core.events import format_time
from usagekit.core.records import ApiKey, Role, Tenant
from usagekit.server.auth import Can, Principal, ctx, require
from usagekit.server.errors import ApiError
from usagekit.server.models import KeyIn, KeyOut, NewKeyOut, TenantIn, TenantOut
from usagekit.server.responses import JSON
from usagekit.server.routes.common import in_thread, iso
from usagekit.services import admin

router = APIRouter(tags=["admin"])


def tenant_json(t: Tenant) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "created": format_time(t.created_ms)}


def key_json(k: ApiKey) -> dict[str, Any]:
    return {
        "id": k.id,
        "tenant": k.tenant_name,
        "role": k.role.value,
        "subject": k.subject,
        "name": k.name,
        "prefix": k.prefix,
        "created": format_time(k.created_ms),
        "revoked": iso(k.revoked_ms),
    }


@router.post("/v1/tenants", status_code=201, response_model=TenantOut)
async def create_tenant(
    request: Request, body: TenantIn, who: Annotated[Principal, Depends(require(Can.TENANTS))]
) -> Response:
    """Create a tenant (admin keys of tenant `default` only)."""
    context = ctx(request)
    tenant = await context.writer.run(admin.create_tenant, who.caller, body.name)
    return JSON(tenant_json(tenant), 201)


@router.get("/v1/tenants", response_model=list[TenantOut])
async def list_tenants(
    request: Request, who: Annotated[Principal, Depends(require(Can.TENANTS))]
) -> Response:
    tenants = await in_thread(admin.list_tenants, ctx(request).store, who.caller)
    return JSON([tenant_json(t) for t in tenants])


@router.post("/v1/keys", status_code=201, response_model=NewKeyOut)
async def create_key(
    request: Request, body: KeyIn, who: Annotated[Principal, Depends(require(Can.MANAGE))]
) -> Response:
    """A new key; its secret is in this reply only and is stored hashed."""
    context = ctx(request)
    tenant = await in_thread(admin.key_tenant, context.store, who.caller, body.tenant)
    key, secret = await context.writer.run(
        admin.create_key, tenant, Role(body.role), body.subject, body.name
    )
    return JSON({**key_json(key), "key": secret}, 201)


@router.get("/v1/keys", response_model=list[KeyOut])
async def list_keys(
    request: Request, who: Annotated[Principal, Depends(require(Can.MANAGE))]
) -> Response:
    keys = await in_thread(admin.list_keys, ctx(request).store, who.caller)
    return JSON([key_json(k) for k in keys])


@router.delete("/v1/keys/{key_id}", status_code=204)
async def revoke_key(
    request: Request, key_id: str, who: Annotated[Principal, Depends(require(Can.MANAGE))]
) -> Response:
    """Revoke a key of the caller's tenant; it stops working at once on this server."""
    context = ctx(request)
    params.text(key_id, "key_id", 64)
    if not await context.writer.run(admin.revoke_key, who.tenant_id, key_id):
        raise ApiError(404, f"no live key {key_id!r} in this tenant", "key_id")
    context.forget_keys()
    return Response(status_code=204)
