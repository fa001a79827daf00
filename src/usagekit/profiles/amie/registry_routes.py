"""The tenant's registry of known projects, resources and users (admin keys).

Where a tenant has entries of a kind, AMIE records naming an unknown one of
that kind fail processing; after registering the missing names, `retry`
processes those failed records again.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from usagekit.profiles.amie import service as amie
from usagekit.server.auth import Can, Principal, ctx, require
from usagekit.server.errors import ApiError
from usagekit.server.models import Text
from usagekit.server.responses import JSON
from usagekit.server.routes.common import in_thread

router = APIRouter(prefix="/v1/registry", tags=["registry"])
KINDS = {"projects": "project", "resources": "resource", "users": "user"}
Admin = Annotated[Principal, Depends(require(Can.MANAGE))]


class NamesIn(BaseModel):
    names: list[Annotated[Text, Field(min_length=1, max_length=256)]] = Field(
        min_length=1, max_length=10_000
    )


class RegistryOut(BaseModel):
    projects: list[str]
    resources: list[str]
    users: list[str]


class AddedOut(BaseModel):
    added: list[str]


class RemovedOut(BaseModel):
    removed: int


class RegistryRetryOut(BaseModel):
    retried: int
    loaded: int
    still_failed: int


def _kind(plural: str) -> str:
    kind = KINDS.get(plural)
    if kind is None:
        raise ApiError(404, f"no registry list {plural!r}; use one of {', '.join(KINDS)}", "kind")
    return kind


@router.get("", response_model=RegistryOut)
async def list_registry(request: Request, who: Admin) -> Response:
    """Every registered name by kind (an empty list: that kind is not checked)."""
    found = await in_thread(amie.registry_entries, ctx(request).store, who.caller)
    return JSON({plural: found.get(kind, []) for plural, kind in KINDS.items()})


@router.post("/retry", response_model=RegistryRetryOut)
async def retry_registry(request: Request, who: Admin) -> Response:
    """Process every AMIE record that failed processing again, against today's registry."""
    return JSON(await ctx(request).writer.run(amie.retry, who.caller, None))


@router.post("/{kind}", response_model=AddedOut)
async def register_names(request: Request, kind: str, body: NamesIn, who: Admin) -> Response:
    """Register names; returns those that were new."""
    added = await ctx(request).writer.run(amie.registry_add, who.tenant_id, _kind(kind), body.names)
    return JSON({"added": added})


@router.post("/{kind}/remove", response_model=RemovedOut)
async def unregister_names(request: Request, kind: str, body: NamesIn, who: Admin) -> Response:
    """Unregister names; records naming them fail processing from now on."""
    removed = await ctx(request).writer.run(
        amie.registry_remove, who.tenant_id, _kind(kind), body.names
    )
    return JSON({"removed": removed})
