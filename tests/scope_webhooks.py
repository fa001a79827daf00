"""The scope matrix's cases for /v1/alerts and /v1/webhooks.

Alerts are seeded per (tenant, subject) with the pair's tag as their limit slug, plus
one tenant-wide alert (no subject) that a subject-bound key must not see. Webhook
endpoints are admin-only: other roles get 403, and an admin never reaches the other
tenant's endpoints (404, and they stay).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.scope_world import OTHER, OWN, Key, World, other_tenant, tag
from tests.scope_writes import Scenario, bearer, status
from usagekit.store.alerts import CROSSED, AlertRow, record

T0 = 1_788_220_800_000  # 2026-09-01T00:00:00Z


def seed_alerts(client: TestClient, tenant: str, subjects: tuple[str, ...]) -> None:
    """One alert per subject (slug: the pair's tag) and one tenant-wide, as the writer
    would write them."""
    store = client.app.state.ctx.store  # type: ignore[attr-defined]
    tid = store.accounts.tenant_by_name(tenant).id
    rows = [
        AlertRow(tid, CROSSED, 1, tag(tenant, s) if s else f"{tenant}-all", s, 80, 80, 100,
                 T0, T0 + 86_400_000, T0)
        for s in (*subjects, None)
    ]  # fmt: skip
    with store.events.write_engine.begin() as conn:
        record(conn, rows)


def check_alerts(key: Key, body: Any) -> None:
    """The seeded alerts the key may see, all of them (alerts the world's own limits made
    at commit time are checked for leaks by the matrix's text search)."""
    seeded = [a for a in body["data"] if a["limit"].startswith(key.tenant)]
    subjects = sorted(a["subject"] or "" for a in seeded)
    want = sorted([*key.visible, *([] if key.confined else [""])])
    assert subjects == want, body
    assert {a["limit"] for a in seeded if a["subject"]} == {tag(key.tenant, s) for s in key.visible}


def hook_of(world: World, tenant: str) -> str:
    """The id of the tenant's standing endpoint (made on first use)."""
    admin = world.key(tenant, "admin")
    listed = world.client.get("/v1/webhooks", headers=bearer(admin)).json()
    standing = [h["id"] for h in listed if h["description"] == "standing"]
    if standing:
        return str(standing[0])
    body = {"url": f"http://127.0.0.1:9/{tenant}", "description": "standing"}
    made = world.client.post("/v1/webhooks", json=body, headers=bearer(admin))
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def own_hook(suffix: str = "") -> Callable[[World, Key], str]:
    return lambda world, key: f"/v1/webhooks/{hook_of(world, key.tenant)}{suffix}"


def other_hook(world: World, key: Key) -> str:
    return f"/v1/webhooks/{hook_of(world, other_tenant(key.tenant))}"


def admin_or(status_for_admin: int) -> Callable[[Key], int]:
    return lambda key: status_for_admin if key.role == "admin" else 403


def manage_webhooks(world: World) -> None:
    """Only admin keys create, change and delete endpoints, of their own tenant only."""
    for key in world.all_keys():
        made = world.client.post(
            "/v1/webhooks", json={"url": "http://127.0.0.1:9/x"}, headers=bearer(key)
        )
        status(made, 201 if key.role == "admin" else 403, key, "create webhook")
        theirs = hook_of(world, other_tenant(key.tenant))
        url = f"/v1/webhooks/{theirs}"
        for method, path, body in (
            ("PATCH", url, {"enabled": False}),
            ("POST", f"{url}/deliveries/1/retry", None),
            ("DELETE", url, None),
        ):
            reply = world.client.request(method, path, json=body, headers=bearer(key))
            status(reply, 404 if key.role == "admin" else 403, key, f"{method} other's webhook")
        if made.status_code == 201:
            mine = f"/v1/webhooks/{made.json()['id']}"
            patched = world.client.patch(mine, json={"rotate_secret": True}, headers=bearer(key))
            status(patched, 200, key, "rotate own webhook")
            status(world.client.delete(mine, headers=bearer(key)), 204, key, "delete own")
        owner = world.key(other_tenant(key.tenant), "admin")
        kept = world.client.get(url, headers=bearer(owner))
        assert kept.status_code == 200 and kept.json()["enabled"] is True, kept.text


WEBHOOK_WRITES: dict[tuple[str, str], Scenario] = {
    ("POST", "/v1/webhooks"): manage_webhooks,
    ("PATCH", "/v1/webhooks/{webhook_id}"): manage_webhooks,
    ("DELETE", "/v1/webhooks/{webhook_id}"): manage_webhooks,
    ("POST", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"): manage_webhooks,
}
__all__ = ["OTHER", "OWN", "WEBHOOK_WRITES", "admin_or", "check_alerts", "other_hook", "own_hook"]
