"""The scope matrix's world: two tenants of two subjects each, their keys, and references.

Every (tenant, subject) pair's data carries a tag (`t1alicex`, ...) and values of its
own magnitude (BASE), so a reply showing another pair's data shows it plainly. A
reference database holds just what one key may see (one tenant; one subject for a
subject-bound key), seeded the same way: the key's reply must equal the reference's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_KEY, new_database
from usagekit.server.app import create_app
from usagekit.server.settings import Settings

TENANTS = ("t1", "t2")
SUBJECTS = ("alice", "bob")
OWN, OTHER = SUBJECTS  # a bound key is alice's; bob is the other subject
ROLES = ("admin", "ingest", "read")
BASE = {("t1", "alice"): 1, ("t1", "bob"): 100, ("t2", "alice"): 10_000, ("t2", "bob"): 1_000_000}
JOB_IDS = {("t1", "alice"): 11, ("t1", "bob"): 12, ("t2", "alice"): 21, ("t2", "bob"): 22}
NOW = datetime.now(UTC).replace(second=0, microsecond=0)
WHEN = NOW - timedelta(hours=2)


# A per-subject and a tenant-wide limit on meter cpu, over days holding WHEN.
LIMITS = [
    {"slug": "cpu-cap", "meter": "cpu", "period": "rolling_7d", "limit": 50},
    {"slug": "cpu-all", "meter": "cpu", "period": "rolling_7d", "limit": 500, "scope": "tenant"},
]


def tag(tenant: str, subject: str) -> str:
    return f"{tenant}{subject}x"


def other_tenant(tenant: str) -> str:
    return TENANTS[1 - TENANTS.index(tenant)]


@dataclass(frozen=True)
class Key:
    tenant: str
    role: str
    bound: bool  # created with subject OWN
    id: str
    secret: str

    @property
    def confined(self) -> bool:
        """Sees only OWN's data (admin keys are never confined)."""
        return self.bound and self.role != "admin"

    @property
    def visible(self) -> tuple[str, ...]:
        return (OWN,) if self.confined else SUBJECTS

    def __str__(self) -> str:
        return f"{self.tenant}/{self.role}{'/bound' if self.bound else ''}"


def iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def events_of(tenant: str, subject: str) -> list[dict[str, Any]]:
    """One event of each type every profile reads, for one (tenant, subject) pair."""
    g, b, n = tag(tenant, subject), BASE[(tenant, subject)], JOB_IDS[(tenant, subject)]
    civis = {"run_id": n, "job_id": n, "user_id": n, "organization_id": 7, "run_time": 1}
    kinds: list[tuple[str, dict[str, Any]]] = [
        ("job", {"cpu_time_ms": b, "data_transfer_bytes": 2 * b, "job_id": f"{g}-j",
                 "job_name": g}),
        ("llm_run", {**civis, "credits": b, "input_tokens": b, "output_tokens": b,
                     "model_id": g}),
        ("matching_run", {**civis, "num_records": b, "task": "IDR"}),
        ("api_request", {"apikey": f"pk-{g}", "bytes": b}),
        ("process", {"seconds": b}),
        ("ld.context", {"contextKey": g, "projectKey": "p", "environmentKey": "e",
                        "contextKind": "user", "sdkName": "node", "sdkType": "server",
                        "category": "server"}),
        ("ld.evaluation", {"projectKey": "p", "environmentKey": "e", "flagKey": "f",
                           "variation": g}),
        ("ld.event", {"kind": "received"}),
        ("ld.data_export_event", {"projectKey": "p", "environmentKey": "e", "eventKind": g}),
        ("ld.experimentation_event", {"projectKey": "p", "environmentKey": "e",
                                      "eventKey": g, "eventKind": "custom"}),
        ("ld.experimentation_key", {"projectKey": "p", "environmentKey": "e", "key": g,
                                    "experimentId": "x"}),
        ("ld.observability", {"projectKey": "p", "kind": "errors", "count": b}),
        ("ld.service_connection", {"projectKey": "p", "environmentKey": "e", "minutes": b,
                                   "connectionType": "relay", "sdkName": g}),
        ("ld.stream", {"source": "client", "sdk": g, "version": "1", "connections": b}),
        ("ld.vega_ai", {"projectKey": "p", "count": b}),
    ]  # fmt: skip
    return [
        {"id": f"{g}-{k}", "type": k, "subject": subject, "time": iso(WHEN), "data": data}
        for k, data in kinds
    ]


def bad_event(tenant: str, subject: str, suffix: str = "bad") -> dict[str, Any]:
    """A record rejected at ingest (its time is not a time), kept as a failure."""
    g = tag(tenant, subject)
    return {"id": f"{g}-{suffix}", "type": "job", "subject": subject, "time": "yesterday",
            "data": {"tag": g}}  # fmt: skip


def amie_record(tenant: str, subject: str, suffix: str, project: str | None = None) -> Any:
    g = tag(tenant, subject)
    return {
        "Username": subject,
        "LocalProjectID": project or f"proj-{g}",
        "LocalRecordID": f"{g}-{suffix}",
        "Resource": f"res-{g}",
        "SubmitTime": iso(WHEN - timedelta(minutes=10)),
        "StartTime": iso(WHEN - timedelta(minutes=5)),
        "EndTime": iso(WHEN),
        "Charge": str(BASE[(tenant, subject)]),
        "Attributes": {"NodeCount": 1},
    }


def amie_send(client: TestClient, key: Key, records: list[Any]) -> httpx.Response:
    return client.post(
        "/amie/usage/",
        json={"UsageType": "Compute", "Records": records},
        headers={"XA-API-KEY": key.secret, "XA-SITE": key.tenant},
    )


def seed(client: TestClient, admin: Key, subjects: tuple[str, ...]) -> None:
    """A tenant's data for `subjects`, written through the API by its admin key."""
    t = admin.tenant
    auth = {"Authorization": f"Bearer {admin.secret}"}
    meter = {"slug": "cpu", "event_type": "job", "aggregation": "sum",
             "value_property": "cpu_time_ms"}  # fmt: skip
    assert client.post("/v1/meters", json=meter, headers=auth).status_code == 201
    for limit in LIMITS:
        made = client.post("/v1/limits", json=limit, headers=auth)
        assert made.status_code == 201, made.text
    names = [f"proj-{tag(t, s)}" for s in subjects]
    assert client.post("/v1/registry/projects", json={"names": names}, headers=auth).is_success
    good = [e for s in subjects for e in events_of(t, s)]
    sent = client.post("/v1/events", json=good, headers=auth).json()
    assert sent["accepted"] == len(good), sent
    bad = client.post("/v1/events", json=[bad_event(t, s) for s in subjects], headers=auth)
    assert len(bad.json()["rejected"]) == len(subjects)
    for s in subjects:
        records = [
            amie_record(t, s, "amie"),
            amie_record(t, s, "unknown", project=f"unknown-{tag(t, s)}"),  # fails processing
            {
                "Username": s,
                "LocalRecordID": f"{tag(t, s)}-invalid",
                "Resource": f"res-{tag(t, s)}",
            },
        ]
        reply = amie_send(client, admin, records).json()
        assert reply["LoadedRecordCount"] == 1 and reply["FailedRecordCount"] == 1, reply
    from tests.scope_webhooks import seed_alerts  # it imports this module

    seed_alerts(client, t, subjects)


def make_keys(client: TestClient, tenant: str, combos: list[tuple[str, bool]]) -> dict[Any, Key]:
    """Keys of `tenant` (created by the default tenant's admin), by (role, bound)."""
    client.post("/v1/tenants", json={"name": tenant})
    out: dict[Any, Key] = {}
    for role, bound in combos:
        body = {"tenant": tenant, "role": role, "name": f"{tenant}keyx-{role}-{bound}"}
        if bound:
            body["subject"] = OWN
        made = client.post("/v1/keys", json=body)
        assert made.status_code == 201, made.text
        out[(role, bound)] = Key(tenant, role, bound, made.json()["id"], made.json()["key"])
    return out


ALL_COMBOS = [(role, bound) for role in ROLES for bound in (False, True)]


@dataclass
class World:
    client: TestClient
    keys: dict[tuple[str, str, bool], Key]  # (tenant, role, bound)
    # (tenant, confined) -> (reference client, its keys by (role, bound))
    refs: dict[tuple[str, bool], tuple[TestClient, dict[Any, Key]]] = field(default_factory=dict)
    tokens: dict[tuple[int, str], str] = field(default_factory=dict)

    def key(self, tenant: str, role: str, bound: bool = False) -> Key:
        return self.keys[(tenant, role, bound)]

    def all_keys(self) -> list[Key]:
        return list(self.keys.values())

    def reference(self, key: Key) -> tuple[TestClient, Key]:
        """Where the same question has only what `key` may see as its answer."""
        client, keys = self.refs[(key.tenant, key.confined)]
        return client, keys[(key.role, key.bound)]

    def token(self, client: TestClient, key: Key) -> str:
        """An Elevate access token for `key` from `client`'s server."""
        found = self.tokens.get((id(client), key.secret))
        if found is None:
            reply = client.post(
                "/exchange-auth-code", json={"clientId": key.id, "secret": key.secret}
            )
            assert reply.status_code == 200, reply.text
            found = self.tokens[(id(client), key.secret)] = reply.json()["accessToken"]
        return found


def settings_for(url: str) -> Settings:
    return Settings(db=url, bootstrap_key=ADMIN_KEY, key_cache_seconds=0, writer="thread")


def open_client(stack: ExitStack, url: str) -> TestClient:
    client = stack.enter_context(TestClient(create_app(settings_for(url))))
    client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
    return client


@contextmanager
def build(client: TestClient, backend: str, tmp: Path) -> Iterator[World]:
    """The main database (both tenants) and four references, each on `backend`."""
    started = time.monotonic()
    keys: dict[tuple[str, str, bool], Key] = {}
    for t in TENANTS:
        made = make_keys(client, t, ALL_COMBOS)
        keys.update({(t, role, bound): k for (role, bound), k in made.items()})
        seed(client, keys[(t, "admin", False)], SUBJECTS)
    world = World(client, keys)
    with ExitStack() as stack:
        for t in TENANTS:
            for confined in (False, True):
                where = tmp / f"{t}-{confined}"
                where.mkdir()
                url = stack.enter_context(new_database(backend, where))
                ref = open_client(stack, url)
                combos = [(r, True) for r in ("ingest", "read")] if confined else ALL_COMBOS
                ref_keys = make_keys(ref, t, [*combos, ("admin", False)])
                seed(ref, ref_keys[("admin", False)], (OWN,) if confined else SUBJECTS)
                world.refs[(t, confined)] = (ref, ref_keys)
        assert time.monotonic() - started < 60
        yield world
