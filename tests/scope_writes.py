"""The scope matrix's writes: one scenario per route that changes data, run by every key.

Each checks the status the role allows and that nothing outside the key's reach
changed: the other tenant's data, and for a subject-bound key the other subject's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.scope_limits import LIMIT_WRITES
from tests.scope_world import (
    OTHER,
    OWN,
    WHEN,
    Key,
    World,
    amie_record,
    amie_send,
    bad_event,
    iso,
    other_tenant,
    tag,
)

Scenario = Callable[[World], None]


def bearer(key: Key) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.secret}"}


def status(reply: httpx.Response, want: int, key: Key, what: str) -> None:
    assert reply.status_code == want, f"{what} as {key}: {reply.status_code} {reply.text[:300]}"


def fixers(key: Key, ok: int) -> int:
    """Clearing and retrying failures: admin and ingest keys."""
    return 403 if key.role == "read" else ok


def note(key: Key, subject: str, n: str) -> dict[str, Any]:
    """An event no meter counts, named after the key that sends it."""
    return {"id": f"w-{key}-{n}".replace("/", "-"), "type": "note", "subject": subject,
            "time": iso(WHEN)}  # fmt: skip


def stored_ids(world: World, tenant: str, **params: str) -> set[str]:
    admin = world.key(tenant, "admin")
    page = world.client.get("/v1/events", params={"limit": "1000", **params}, headers=bearer(admin))
    return {e["id"] for e in page.json()["data"]}


def send_events(world: World) -> None:
    """A subject-bound key's records of another subject are rejected by index, the rest stored."""
    for key in world.all_keys():
        body = [note(key, OWN, "own"), note(key, OTHER, "other")]
        reply = world.client.post("/v1/events", json=body, headers=bearer(key))
        status(reply, 403 if key.role == "read" else 202, key, "POST /v1/events")
        if key.role == "read":
            continue
        got = reply.json()
        if key.confined:
            assert got["accepted"] == 1 and [r["index"] for r in got["rejected"]] == [1], got
        else:
            assert got["accepted"] == 2 and got["rejected"] == [], got
    for tenant in ("t1", "t2"):
        others = stored_ids(world, tenant, type="note", subject=OTHER)
        for key in world.all_keys():
            sent = note(key, OTHER, "other")["id"]
            stored = key.tenant == tenant and key.role != "read" and not key.confined
            assert (sent in others) == stored, (tenant, key)


def fresh_failures(world: World, key: Key, n: str) -> dict[str, int]:
    """New failures of OWN and OTHER in the key's tenant and of OWN in the other tenant."""
    made: dict[str, int] = {}
    for tenant, subject, name in ((key.tenant, OWN, "own"), (key.tenant, OTHER, "other"),
                                  (other_tenant(key.tenant), OWN, "tenant")):  # fmt: skip
        admin = world.key(tenant, "admin")
        record = bad_event(tenant, subject, f"{n}-{key}".replace("/", "-"))
        world.client.post("/v1/events", json=[record], headers=bearer(admin))
        listed = world.client.get("/v1/failures?limit=5", headers=bearer(admin)).json()["data"]
        [made[name]] = [f["id"] for f in listed if f["record"].get("id") == record["id"]]
    return made


def failure_ids(world: World, tenant: str) -> set[int]:
    admin = world.key(tenant, "admin")
    listed = world.client.get("/v1/failures?limit=1000", headers=bearer(admin)).json()["data"]
    return {f["id"] for f in listed}


def clear_failure(world: World) -> None:
    """A key clears its own tenant's failures, a bound one only its subject's."""
    for key in world.all_keys():
        ids = fresh_failures(world, key, "clear")
        for name, want in (("tenant", 404), ("other", 404 if key.confined else 204), ("own", 204)):
            reply = world.client.delete(f"/v1/failures/{ids[name]}", headers=bearer(key))
            status(reply, fixers(key, want), key, f"DELETE {name}'s failure")
        assert ids["tenant"] in failure_ids(world, other_tenant(key.tenant))
        if key.role == "read" or key.confined:
            assert ids["other"] in failure_ids(world, key.tenant)


def retry_failure(world: World) -> None:
    """Retrying reaches the same failures clearing does; a bound key stores no stranger."""
    for key in world.all_keys():
        ids = fresh_failures(world, key, "retry")
        for name, want in (("tenant", 404), ("other", 404 if key.confined else 200), ("own", 200)):
            reply = world.client.post(f"/v1/failures/{ids[name]}/retry", headers=bearer(key))
            status(reply, fixers(key, want), key, f"retry {name}'s failure")
    # A bound key's rejected record of another subject is its own failure; a retry still
    # refuses to store it.
    key = world.key("t1", "ingest", True)
    record = {**note(key, OTHER, "retried"), "data": {}}
    assert world.client.post("/v1/events", json=[record], headers=bearer(key)).json()["rejected"]
    mine = world.client.get(
        "/v1/failures?limit=1000", headers=bearer(world.key("t1", "read", True))
    )
    [fid] = [f["id"] for f in mine.json()["data"] if f["record"].get("id") == record["id"]]
    reply = world.client.post(f"/v1/failures/{fid}/retry", headers=bearer(key)).json()
    assert reply["cleared"] is False and reply["result"]["accepted"] == 0, reply
    assert record["id"] not in stored_ids(world, "t1", subject=OTHER)


def void_events(world: World) -> None:
    """Voids are admin-only and never reach another tenant's events."""
    for key in world.all_keys():
        victim = f"{tag(other_tenant(key.tenant), OWN)}-job"
        body = {"source": "default", "ids": [victim]}
        reply = world.client.post("/v1/events/void", json=body, headers=bearer(key))
        status(reply, 200 if key.role == "admin" else 403, key, "void")
        if reply.status_code == 200:
            assert reply.json() == {"voided": [], "already_voided": [], "not_found": [victim]}


def create_meter(world: World) -> None:
    for n, key in enumerate(world.all_keys()):
        body = {"slug": f"m{n}", "event_type": "note", "aggregation": "count"}
        reply = world.client.post("/v1/meters", json=body, headers=bearer(key))
        status(reply, 201 if key.role == "admin" else 403, key, "create meter")
        other = world.key(other_tenant(key.tenant), "admin")
        assert world.client.get(f"/v1/meters/m{n}", headers=bearer(other)).status_code == 404


def delete_meter(world: World) -> None:
    """A meter only the other tenant has is not found, and stays."""
    for tenant in ("t1", "t2"):
        body = {"slug": f"only-{tenant}", "event_type": "note", "aggregation": "count"}
        world.client.post("/v1/meters", json=body, headers=bearer(world.key(tenant, "admin")))
    for key in world.all_keys():
        other = other_tenant(key.tenant)
        reply = world.client.delete(f"/v1/meters/only-{other}", headers=bearer(key))
        status(reply, 404 if key.role == "admin" else 403, key, "delete meter")
        kept = world.client.get(
            f"/v1/meters/only-{other}", headers=bearer(world.key(other, "admin"))
        )
        assert kept.status_code == 200


def create_tenant(world: World) -> None:
    for key in world.all_keys():
        reply = world.client.post("/v1/tenants", json={"name": f"x-{key.id}"}, headers=bearer(key))
        status(reply, 403, key, "create tenant")


def create_key(world: World) -> None:
    for key in world.all_keys():
        own = world.client.post("/v1/keys", json={"role": "read"}, headers=bearer(key))
        status(own, 201 if key.role == "admin" else 403, key, "create key")
        body = {"role": "admin", "tenant": other_tenant(key.tenant)}
        status(world.client.post("/v1/keys", json=body, headers=bearer(key)), 403, key, "other")


def revoke_key(world: World) -> None:
    """Another tenant's key cannot be revoked: it is not found, and keeps working."""
    for key in world.all_keys():
        admin = world.key(other_tenant(key.tenant), "admin")
        made = world.client.post("/v1/keys", json={"role": "read"}, headers=bearer(admin)).json()
        reply = world.client.delete(f"/v1/keys/{made['id']}", headers=bearer(key))
        status(reply, 404 if key.role == "admin" else 403, key, "revoke")
        still = world.client.get("/v1/meters", headers={"Authorization": f"Bearer {made['key']}"})
        assert still.status_code == 200


def registry_names(world: World, tenant: str) -> dict[str, list[str]]:
    reply = world.client.get("/v1/registry", headers=bearer(world.key(tenant, "admin")))
    found: dict[str, list[str]] = reply.json()
    return found


def registry_add(world: World) -> None:
    for key in world.all_keys():
        name = f"added-{key}".replace("/", "-")
        body = {"names": [name]}
        reply = world.client.post("/v1/registry/projects", json=body, headers=bearer(key))
        status(reply, 200 if key.role == "admin" else 403, key, "registry add")
        assert name not in registry_names(world, other_tenant(key.tenant))["projects"]


def registry_remove(world: World) -> None:
    for key in world.all_keys():
        other = other_tenant(key.tenant)
        name = f"proj-{tag(other, OWN)}"
        body = {"names": [name]}
        reply = world.client.post("/v1/registry/projects/remove", json=body, headers=bearer(key))
        status(reply, 200 if key.role == "admin" else 403, key, "registry remove")
        assert name in registry_names(world, other)["projects"]


def amie_failed(world: World, tenant: str) -> list[dict[str, Any]]:
    admin = world.key(tenant, "admin")
    reply = world.client.get(
        "/amie/usage/failed", headers={"XA-API-KEY": admin.secret, "XA-SITE": tenant}
    )
    rows: list[dict[str, Any]] = reply.json()["ValidationFailedRecords"]
    return rows


def registry_retry(world: World) -> None:
    """Reprocessing failed AMIE records stays in the key's tenant."""
    for key in world.all_keys():
        before = len(amie_failed(world, other_tenant(key.tenant)))
        reply = world.client.post("/v1/registry/retry", headers=bearer(key))
        status(reply, 200 if key.role == "admin" else 403, key, "registry retry")
        assert len(amie_failed(world, other_tenant(key.tenant))) == before


def amie_usage(path: str) -> Scenario:
    """A bound key's records of another user fail validation; another site's key is refused."""
    return lambda world: _amie_usage(world, path)


def _amie_usage(world: World, path: str) -> None:
    for n, key in enumerate(world.all_keys()):
        rid = f"w{n}{path.replace('/', '-')}"
        records = [amie_record(key.tenant, OWN, rid), amie_record(key.tenant, OTHER, rid)]
        reply = world.client.post(
            path,
            json={"UsageType": "Compute", "Records": records},
            headers={"XA-API-KEY": key.secret, "XA-SITE": key.tenant},
        )
        status(reply, 403 if key.role == "read" else 200, key, "AMIE usage")
        if reply.status_code == 200:
            got = reply.json()
            assert got["LoadedRecordCount"] == (1 if key.confined else 2), got
            rejected = [r["Username"] for r in got["ValidationFailedRecords"]]
            assert rejected == ([OTHER] if key.confined else []), got
        foreign = world.client.post(
            path,
            json={"UsageType": "Compute", "Records": records},
            headers={"XA-API-KEY": key.secret, "XA-SITE": other_tenant(key.tenant)},
        )
        status(foreign, 401, key, "AMIE usage to another site")


def amie_clear(world: World) -> None:
    """Clearing AMIE failures by id reaches only the key's own (subject's) failures."""
    for n, key in enumerate(world.all_keys()):
        made: dict[str, int] = {}
        for tenant, subject, name in ((key.tenant, OWN, "own"), (key.tenant, OTHER, "other"),
                                      (other_tenant(key.tenant), OWN, "tenant")):  # fmt: skip
            rid = f"c{n}-{name}"
            record = amie_record(tenant, subject, rid, project=f"nowhere-{n}")
            amie_send(world.client, world.key(tenant, "admin"), [record])
            rows = amie_failed(world, tenant)
            [made[name]] = [
                r["FailedRecordID"] for r in rows if r["LocalRecordID"].endswith(f"-{rid}")
            ]
        headers = {"XA-API-KEY": key.secret, "XA-SITE": key.tenant}
        for name, want in (("tenant", 404), ("other", 404 if key.confined else 200), ("own", 200)):
            reply = world.client.delete(f"/amie/usage/failed/{made[name]}", headers=headers)
            status(reply, fixers(key, want), key, f"AMIE clear {name}")
        other_ids = {r["FailedRecordID"] for r in amie_failed(world, other_tenant(key.tenant))}
        assert made["tenant"] in other_ids


def exchange(world: World) -> None:
    """A token is for the key it was asked with; another key's id is refused."""
    for key in world.all_keys():
        mine = {"clientId": key.id, "secret": key.secret}
        status(world.client.post("/exchange-auth-code", json=mine), 200, key, "exchange")
        theirs = {"clientId": world.key(other_tenant(key.tenant), "admin").id, "secret": key.secret}
        status(world.client.post("/exchange-auth-code", json=theirs), 401, key, "exchange other")


WRITES: dict[tuple[str, str], Scenario] = {
    ("POST", "/v1/events"): send_events,
    ("DELETE", "/v1/failures/{failure_id}"): clear_failure,
    ("POST", "/v1/failures/{failure_id}/retry"): retry_failure,
    ("POST", "/v1/events/void"): void_events,
    ("POST", "/v1/meters"): create_meter,
    ("DELETE", "/v1/meters/{slug}"): delete_meter,
    ("POST", "/v1/tenants"): create_tenant,
    ("POST", "/v1/keys"): create_key,
    ("DELETE", "/v1/keys/{key_id}"): revoke_key,
    ("POST", "/v1/registry/{kind}"): registry_add,
    ("POST", "/v1/registry/{kind}/remove"): registry_remove,
    ("POST", "/v1/registry/retry"): registry_retry,
    ("POST", "/amie/usage"): amie_usage("/amie/usage"),
    ("POST", "/amie/usage/"): amie_usage("/amie/usage/"),
    ("DELETE", "/amie/usage/failed/{ids}"): amie_clear,
    ("POST", "/exchange-auth-code"): exchange,
    **LIMIT_WRITES,
}
