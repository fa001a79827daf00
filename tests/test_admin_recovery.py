"""Admin access cannot be lost for good: the last admin key of 'default' cannot be revoked,
and a new USAGEKIT_BOOTSTRAP_KEY given to an existing database restores access."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_KEY, new_tenant_key
from tests.live import serve
from usagekit.core.records import Role
from usagekit.services.admin import DEFAULT_TENANT, Admin
from usagekit.store import Store

NEW_KEY = "uk_recovery_key_after_loss_0123456789"


def live_admin_keys(client: TestClient, key: str = ADMIN_KEY) -> list[str]:
    keys = client.get("/v1/keys", headers=auth(key)).json()
    return [k["id"] for k in keys if k["role"] == "admin" and k["revoked"] is None]


def test_last_admin_key_of_default_cannot_be_revoked(client: TestClient) -> None:
    [only] = live_admin_keys(client)
    refused = client.delete(f"/v1/keys/{only}")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["param"] == "key_id" and only in error["message"] and "last" in error["message"]
    assert client.get("/v1/meters").status_code == 200  # still works

    second = client.post("/v1/keys", json={"role": "admin", "name": "second"}).json()
    assert client.delete(f"/v1/keys/{only}").status_code == 204  # another admin remains
    client.headers["Authorization"] = f"Bearer {second['key']}"
    assert client.delete(f"/v1/keys/{second['id']}").status_code == 409
    assert live_admin_keys(client, second["key"]) == [second["id"]]

    reader = client.post("/v1/keys", json={"role": "read"}).json()
    assert client.delete(f"/v1/keys/{reader['id']}").status_code == 204  # others go freely
    assert client.delete(f"/v1/keys/{reader['id']}").status_code == 404


def test_other_tenants_last_admin_can_go_and_default_makes_a_new_one(client: TestClient) -> None:
    secret = new_tenant_key(client, "acme")
    [own] = live_admin_keys(client, secret)
    assert client.delete(f"/v1/keys/{own}", headers=auth(secret)).status_code == 204
    assert client.get("/v1/meters", headers=auth(secret)).status_code == 401
    fresh = new_tenant_key(client, "acme")  # the way back for any tenant
    assert client.get("/v1/meters", headers=auth(fresh)).status_code == 200


@pytest.mark.slow
def test_new_bootstrap_key_restores_access_at_startup(db_url: str, tmp_path: Path) -> None:
    with serve(db_url, tmp_path) as live, live.client() as admin:
        second = admin.post("/v1/keys", json={"role": "admin"}).json()
        old = next(k["id"] for k in admin.get("/v1/keys").json() if k["name"] == "bootstrap")
        assert admin.delete(f"/v1/keys/{old}").status_code == 204
        assert admin.get("/v1/meters").status_code == 401
    # The second key's secret is now "lost": nobody can administer tenant 'default'.

    recovery = {"USAGEKIT_BOOTSTRAP_KEY": NEW_KEY}
    with serve(db_url, tmp_path, env=recovery) as live, live.client(NEW_KEY) as admin:
        assert admin.get("/v1/meters").status_code == 200
        keys = admin.get("/v1/keys").json()
        added = [k for k in keys if k["id"] not in (old, second["id"])]
        assert [(k["role"], k["tenant"], k["revoked"]) for k in added] == [
            ("admin", "default", None)
        ]
        assert admin.post("/v1/tenants", json={"name": "after"}).status_code == 201
        log = live.log.read_text()
    assert log.count("added admin key") == 1 and added[0]["id"] in log
    assert NEW_KEY not in log  # announced, never printed

    with serve(db_url, tmp_path, env=recovery) as live, live.client(NEW_KEY) as admin:
        assert admin.get("/v1/meters").status_code == 200
        assert len(admin.get("/v1/keys").json()) == len(keys)  # not added twice
        assert "added admin key" not in live.log.read_text()

    # The revoked key's secret is not brought back to life; the server says so and runs.
    with serve(db_url, tmp_path) as live:
        assert httpx.get(f"{live.url}/v1/meters", headers=auth(ADMIN_KEY)).status_code == 401
        assert httpx.get(f"{live.url}/v1/meters", headers=auth(NEW_KEY)).status_code == 200
        assert f"secret of key {old}" in live.log.read_text()


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_two_revocations_at_once_leave_one_admin(store: Store) -> None:
    """The check and the revocation share one transaction under the writers' lock."""
    admin = Admin(store)
    tenant = admin.create_tenant(DEFAULT_TENANT)
    for _ in range(10):
        for left in store.accounts.list_keys(tenant.id):  # unprotected: start from none
            store.accounts.revoke_key(tenant.id, left.id, keep_admin_of="")
        pair = [admin.create_key(tenant, Role.ADMIN)[0].id for _ in range(2)]
        start = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(revoke_after, [start] * 2, [tenant.id] * 2, pair, [store] * 2))
        assert sorted(results, key=str) == [None, True]  # one revoked, one refused as the last
        live = [k.id for k in store.accounts.list_keys(tenant.id) if k.revoked_ms is None]
        assert len(live) == 1 and live[0] in pair


def revoke_after(
    start: threading.Barrier, tenant_id: int, key_id: str, store: Store
) -> bool | None:
    start.wait()
    return store.accounts.revoke_key(tenant_id, key_id, keep_admin_of=DEFAULT_TENANT)
