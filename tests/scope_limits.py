"""The scope matrix's limit writes: only admin keys change limits, and only their tenant's."""

from __future__ import annotations

from typing import Any

import httpx

from tests.scope_world import Key, World, other_tenant


def bearer(key: Key) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.secret}"}


def status(reply: httpx.Response, want: int, key: Key, what: str) -> None:
    assert reply.status_code == want, f"{what} as {key}: {reply.status_code} {reply.text[:300]}"


def slug_of(prefix: str, key: Key) -> str:
    return f"{prefix}-{key}".replace("/", "-")


def limit_body(slug: str, value: int = 10) -> dict[str, Any]:
    return {"slug": slug, "meter": "cpu", "period": "day", "limit": value}


def admin_get(world: World, tenant: str, slug: str) -> httpx.Response:
    return world.client.get(f"/v1/limits/{slug}", headers=bearer(world.key(tenant, "admin")))


def create_limit(world: World) -> None:
    """Admin keys create in their own tenant; the other tenant never sees it."""
    for key in world.all_keys():
        slug = slug_of("made", key)
        reply = world.client.post("/v1/limits", json=limit_body(slug), headers=bearer(key))
        status(reply, 201 if key.role == "admin" else 403, key, "create limit")
        own = admin_get(world, key.tenant, slug).status_code
        assert own == (200 if key.role == "admin" else 404), key
        assert admin_get(world, other_tenant(key.tenant), slug).status_code == 404


def update_limit(world: World) -> None:
    """A key changes its own tenant's limit of a slug both tenants have, if an admin."""
    for tenant in ("t1", "t2"):
        made = world.client.post(
            "/v1/limits", json=limit_body("shared", 7), headers=bearer(world.key(tenant, "admin"))
        )
        assert made.status_code == 201, made.text
    for n, key in enumerate(world.all_keys(), start=100):
        reply = world.client.patch("/v1/limits/shared", json={"limit": n}, headers=bearer(key))
        status(reply, 200 if key.role == "admin" else 403, key, "update limit")
        mine = admin_get(world, key.tenant, "shared").json()["limit"]
        theirs = admin_get(world, other_tenant(key.tenant), "shared").json()["limit"]
        if key.role == "admin":
            assert mine == n
        assert theirs != n


def delete_limit(world: World) -> None:
    """Deleting reaches only the key's tenant; the other tenant's limit of that slug stays."""
    for key in world.all_keys():
        slug = slug_of("gone", key)
        for tenant in ("t1", "t2"):
            admin = world.key(tenant, "admin")
            made = world.client.post("/v1/limits", json=limit_body(slug), headers=bearer(admin))
            assert made.status_code == 201, made.text
        reply = world.client.delete(f"/v1/limits/{slug}", headers=bearer(key))
        status(reply, 204 if key.role == "admin" else 403, key, "delete limit")
        own = admin_get(world, key.tenant, slug).status_code
        assert own == (404 if key.role == "admin" else 200), key
        assert admin_get(world, other_tenant(key.tenant), slug).status_code == 200


LIMIT_WRITES = {
    ("POST", "/v1/limits"): create_limit,
    ("PATCH", "/v1/limits/{slug}"): update_limit,
    ("DELETE", "/v1/limits/{slug}"): delete_limit,
}
