"""The scope matrix: every route x role x bound key x own/other subject x own/other tenant.

The routes come from the app's route table: one without a case below fails the test
by name, so a new route cannot skip the matrix. Each read is asked by every key of
both tenants and checked three ways: its status (403 where the role or the subject
binding forbids it), no trace of data the key may not see (the other tenant's tags;
for a subject-bound key, the other subject), and the same answer as a reference
database holding only what the key may see. Writes get a scenario each.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute

from tests.conftest import new_tenant_key
from tests.scope_webhooks import WEBHOOK_WRITES, admin_or, check_alerts, other_hook, own_hook
from tests.scope_world import (
    BASE,
    NOW,
    OTHER,
    OWN,
    SUBJECTS,
    WHEN,
    Key,
    World,
    build,
    events_of,
    iso,
    other_tenant,
    tag,
)
from tests.scope_writes import WRITES as CORE_WRITES
from usagekit.profiles.launchdarkly.endpoints import ENDPOINTS
from usagekit.server.app import create_app
from usagekit.server.settings import Settings

Expect = Callable[[Key], int]
WRITES = {**CORE_WRITES, **WEBHOOK_WRITES}


def may(*roles: str, confined: int = 200, ok: int = 200) -> Expect:
    """`ok` for these roles (`confined` for subject-bound ones of them), else 403."""

    def expect(key: Key) -> int:
        if key.role not in roles:
            return 403
        return confined if key.confined else ok

    return expect


READERS = may("admin", "read")
ANYONE = may("admin", "ingest", "read")
TENANT_WIDE = may("admin", "read", confined=403)
ADMIN = may("admin")


def nobody(key: Key) -> int:
    return 403


def geobox_user(subject: str) -> Expect:
    """Geobox: a key reads its own user; an admin key any user; nobody else's."""

    def expect(key: Key) -> int:
        if key.role == "ingest":
            return 403
        if key.role == "admin" or (key.bound and subject == OWN):
            return 200
        return 403

    return expect


@dataclass(frozen=True)
class Probe:
    """One request, asked by every key: `url` may depend on the key (ids differ per DB)."""

    url: str | Callable[[World, Key], str]
    expect: Expect
    style: str = "bearer"  # bearer | amie | elevate
    compare: bool = True  # the reply equals the reference database's
    method: str = "GET"
    body: Any = None
    check: Callable[[Key, Any], None] | None = None  # numbers computed here, in plain Python


def own_total(key: Key) -> int:
    return sum(BASE[(key.tenant, s)] for s in key.visible)


def check_summary(key: Key, body: Any) -> None:
    cpu = {r["group"]["subject"]: r["value"] for r in body["data"] if r["meter"] == "cpu"}
    assert cpu == {s: BASE[(key.tenant, s)] for s in key.visible}


def check_query(key: Key, body: Any) -> None:
    assert sum(p["value"] for p in body["data"]) == own_total(key)


def check_events(key: Key, body: Any) -> None:
    want = {e["id"] for s in key.visible for e in events_of(key.tenant, s)}
    want |= {f"{tag(key.tenant, s)}-amie" for s in key.visible}  # the AMIE record loaded
    assert {e["id"] for e in body["data"]} == want


def check_status(key: Key, body: Any) -> None:
    assert body["usage"] == BASE[(key.tenant, OWN)]
    assert body["has_access"] == (BASE[(key.tenant, OWN)] < 50)


def check_tenant_status(key: Key, body: Any) -> None:
    assert body["usage"] == own_total(key)


def check_subject_limits(key: Key, body: Any) -> None:
    usage = {s["slug"]: s["usage"] for s in body}
    want = {"cpu-cap": BASE[(key.tenant, OWN)]}
    if not key.confined:
        want["cpu-all"] = own_total(key)
    assert usage == want


def check_closest(key: Key, body: Any) -> None:
    usage = {r["subject"]: r["usage"] for r in body["data"]}
    assert usage == {s: BASE[(key.tenant, s)] for s in key.visible}


def check_failures(key: Key, body: Any) -> None:
    whose = [r["record"].get("subject") or r["record"].get("Username") for r in body["data"]]
    assert sorted(whose) == sorted([s for s in key.visible for _ in range(3)])


def check_amie_summary(key: Key, body: Any) -> None:
    assert sum(row["TotalCharge"] for row in body) == own_total(key)


def check_elevate(key: Key, body: Any) -> None:
    assert body == {"metricType": "CPU_TIME_MS", "totalValue": own_total(key)}


def check_credits(key: Key, body: Any) -> None:
    assert body["credits"] == own_total(key)


def check_geobox_summary(key: Key, body: Any) -> None:
    assert (body["calls"], body["traffic"]) == (1, BASE[(key.tenant, OWN)])


def llm_id(subject: str, tenant: str | None = None) -> Callable[[World, Key], str]:
    """The URL of one subject's LLM run (in the key's tenant, or `tenant`)."""

    def url(world: World, key: Key) -> str:
        t = tenant or key.tenant
        admin = world.key(t, "admin")
        runs = world.client.get(
            f"/civis/usage/llm?start_date={DAY0}&end_date={DAY1}",
            headers={"Authorization": f"Bearer {admin.secret}"},
        ).json()
        [found] = [r["id"] for r in runs if r["modelId"] == tag(t, subject)]
        return f"/civis/usage/llm/{found}"

    return url


def other_llm(world: World, key: Key) -> str:
    return llm_id(OWN, other_tenant(key.tenant))(world, key)


DAY0, DAY1 = (WHEN - timedelta(days=1)).date(), (NOW + timedelta(days=1)).date()
FROM, TO = (WHEN - timedelta(days=1)).isoformat(), (NOW + timedelta(hours=1)).isoformat()
RANGE = f"from={FROM.replace('+', '%2B')}&to={TO.replace('+', '%2B')}"
CIVIS = f"start_date={DAY0}&end_date={DAY1}"
GEOBOX_API = "/api/v1/usage/api?scale=day&param=traffic&days_before_now=3"


def api_key_usage(subject: str) -> Callable[[World, Key], str]:
    """Geobox usage of one subject's API key (the value its events carry)."""
    return lambda world, key: f"{GEOBOX_API}&eid=pk-{tag(key.tenant, subject)}"


def api_key_id(subject: str, tenant: str | None = None) -> Callable[[World, Key], str]:
    """The Geobox URL of one subject's API key by its id, as the tenant's admin lists it."""

    def url(world: World, key: Key) -> str:
        admin = world.key(tenant or key.tenant, "admin")
        listed = world.client.get(
            "/api/v1/apikeys/?limit=100", headers={"Authorization": f"Bearer {admin.secret}"}
        ).json()
        [found] = [k["id"] for k in listed if k["key"] == f"pk-{tag(admin.tenant, subject)}"]
        return f"/api/v1/apikeys/{found}/"

    return url


def api_key_expect(subject: str) -> Expect:
    """Admin keys read any key of the tenant; a user only keys their events name."""

    def expect(key: Key) -> int:
        if key.role == "ingest":
            return 403
        if key.role == "admin" or (key.bound and subject == OWN):
            return 200
        return 404

    return expect


READS: dict[tuple[str, str], list[Probe]] = {
    ("GET", "/v1/events"): [
        Probe("/v1/events?limit=1000&type=job", READERS),
        Probe("/v1/events?limit=1000", READERS, check=check_events),
        Probe(f"/v1/events?subject={OTHER}", may("admin", "read", confined=403)),
    ],
    ("GET", "/v1/events/export"): [Probe("/v1/events/export", READERS)],
    ("GET", "/v1/ingestion"): [Probe(f"/v1/ingestion?{RANGE}", TENANT_WIDE)],
    ("GET", "/v1/meters"): [Probe("/v1/meters", READERS)],
    ("GET", "/v1/meters/{slug}"): [Probe("/v1/meters/cpu", READERS)],
    ("GET", "/v1/meters/{slug}/query"): [
        Probe(f"/v1/meters/cpu/query?{RANGE}", READERS, check=check_query),
        Probe(f"/v1/meters/cpu/query?{RANGE}&group_by=subject", READERS),
        Probe(f"/v1/meters/cpu/query?{RANGE}&subject={OTHER}", may("admin", "read", confined=403)),
        Probe(f"/v1/meters/cpu/query?{RANGE}&filter[subject]={OTHER}", READERS),
    ],
    ("GET", "/v1/usage/summary"): [
        Probe(f"/v1/usage/summary?{RANGE}&group_by=subject", READERS, check=check_summary),
        Probe(f"/v1/usage/summary?{RANGE}&subject={OTHER}", may("admin", "read", confined=403)),
    ],
    ("GET", "/v1/limits"): [Probe("/v1/limits", READERS)],
    ("GET", "/v1/limits/{slug}"): [Probe("/v1/limits/cpu-cap", READERS)],
    ("GET", "/v1/limits/{slug}/status"): [
        Probe(f"/v1/limits/cpu-cap/status?subject={OWN}", READERS, check=check_status),
        Probe(f"/v1/limits/cpu-cap/status?subject={OTHER}", may("admin", "read", confined=403)),
        Probe("/v1/limits/cpu-all/status", TENANT_WIDE, check=check_tenant_status),
    ],
    ("GET", "/v1/limits/{slug}/subjects"): [
        Probe("/v1/limits/cpu-cap/subjects", TENANT_WIDE, check=check_closest),
        Probe("/v1/limits/cpu-all/subjects", TENANT_WIDE),
    ],
    ("GET", "/v1/subjects/{subject}/limits"): [
        Probe(f"/v1/subjects/{OWN}/limits", READERS, check=check_subject_limits),
        Probe(f"/v1/subjects/{OTHER}/limits", may("admin", "read", confined=403)),
    ],
    ("GET", "/v1/failures"): [Probe("/v1/failures?limit=1000", READERS, check=check_failures)],
    ("GET", "/v1/tenants"): [Probe("/v1/tenants", nobody)],
    ("GET", "/v1/keys"): [Probe("/v1/keys", ADMIN, compare=False)],
    ("GET", "/v1/registry"): [Probe("/v1/registry", ADMIN)],
    ("GET", "/amie/usage/failed"): [Probe("/amie/usage/failed", ANYONE, "amie")],
    ("GET", "/amie/usage/status"): [Probe("/amie/usage/status", ANYONE, "amie")],
    ("GET", "/amie/usage/summary"): [
        Probe("/amie/usage/summary", ANYONE, "amie", check=check_amie_summary)
    ],
    ("GET", "/civis/endpoints"): [Probe("/civis/endpoints", READERS)],
    ("GET", "/civis/usage/llm"): [Probe(f"/civis/usage/llm?{CIVIS}", READERS)],
    ("GET", "/civis/usage/llm/organization/{org_id}/summary"): [
        Probe(f"/civis/usage/llm/organization/7/summary?{CIVIS}", READERS, check=check_credits)
    ],
    ("GET", "/civis/usage/llm/{stat_id}"): [
        Probe(llm_id(OWN), READERS, compare=False),
        Probe(llm_id(OTHER), may("admin", "read", confined=404), compare=False),
        Probe(other_llm, may("admin", "read", ok=404, confined=404), compare=False),
    ],
    ("GET", "/civis/usage/matching"): [Probe(f"/civis/usage/matching?{CIVIS}", READERS)],
    ("GET", "/api/umon/v1/usage-metrics"): [
        Probe(
            "/api/umon/v1/usage-metrics?metricType=CPU_TIME_MS",
            READERS,
            "elevate",
            check=check_elevate,
        ),
        Probe(
            "/api/umon/v1/usage-metrics?metricType=DATA_TRANSFER_VOLUME_BYTES", READERS, "elevate"
        ),
    ],
    ("GET", "/api/umon/v1/usage-metrics/download"): [
        Probe("/api/umon/v1/usage-metrics/download?metricType=CPU_TIME_MS", READERS, "elevate")
    ],
    ("GET", "/api/v1/users/{user}/"): [
        Probe(f"/api/v1/users/{OWN}/", geobox_user(OWN)),
        Probe(f"/api/v1/users/{OTHER}/", geobox_user(OTHER)),
    ],
    ("GET", "/api/v1/apikeys/"): [
        Probe(f"/api/v1/apikeys/?user_id={OWN}", geobox_user(OWN)),
        Probe(f"/api/v1/apikeys/?user_id={OTHER}", geobox_user(OTHER)),
    ],
    ("GET", "/api/v1/apikeys/{key_id}/"): [
        Probe(api_key_id(OWN), api_key_expect(OWN), compare=False),
        Probe(api_key_id(OTHER), api_key_expect(OTHER), compare=False),
        Probe(
            lambda w, k: api_key_id(OWN, other_tenant(k.tenant))(w, k),
            lambda k: 403 if k.role == "ingest" else 404,
            compare=False,
        ),
    ],
    ("GET", "/api/v1/usage/api"): [
        Probe(
            f"/api/v1/usage/api?scale=day&param=calls&days_before_now=3&eid={OWN}", geobox_user(OWN)
        ),
        Probe(
            f"/api/v1/usage/api?scale=day&param=calls&days_before_now=3&eid={OTHER}",
            geobox_user(OTHER),
        ),
        Probe(api_key_usage(OWN), geobox_user(OWN)),
        Probe(api_key_usage(OTHER), geobox_user(OTHER)),
    ],
    ("GET", "/api/v1/usage/process"): [
        Probe(f"/api/v1/usage/process?user_id={OWN}&days_before_now=3", geobox_user(OWN)),
        Probe(f"/api/v1/usage/process?user_id={OTHER}&days_before_now=3", geobox_user(OTHER)),
    ],
    ("GET", "/api/v1/usage/summary"): [
        Probe(f"/api/v1/usage/summary?user_id={OWN}", geobox_user(OWN), check=check_geobox_summary),
        Probe(f"/api/v1/usage/summary?user_id={OTHER}", geobox_user(OTHER)),
    ],
    ("POST", "/api/v1/usage/update"): [
        Probe("/api/v1/usage/update", geobox_user(OWN), method="POST", body={"user_id": OWN}),
        Probe("/api/v1/usage/update", geobox_user(OTHER), method="POST", body={"user_id": OTHER}),
    ],
}

READS |= {
    ("GET", "/v1/alerts"): [
        Probe("/v1/alerts?limit=1000", READERS, check=check_alerts),
        Probe(f"/v1/alerts?subject={OTHER}", may("admin", "read", confined=403)),
    ],
    ("GET", "/v1/webhooks"): [Probe("/v1/webhooks", ADMIN, compare=False)],
    ("GET", "/v1/webhooks/{webhook_id}"): [
        Probe(own_hook(), ADMIN, compare=False),
        Probe(other_hook, admin_or(404), compare=False),
    ],
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"): [
        Probe(own_hook("/deliveries"), ADMIN, compare=False),
        Probe(lambda w, k: other_hook(w, k) + "/deliveries", admin_or(404), compare=False),
    ],
}

# No key, no tenant data: liveness, metrics, the API description and the dashboard's files.
PUBLIC = {"/healthz", "/metrics", "/openapi.json", "/docs", "/docs/{name}", "/",
          "/ui/{name:path}"}  # fmt: skip
LD_PREFIX = "/api/v2/usage/"
LD_PATH = {"projectKey": "p", "environmentKey": "e", "featureFlagKey": "f", "type": "received",
           "source": "client"}  # fmt: skip


def ld_probe(path: str) -> Probe:
    """A LaunchDarkly row's route, over the seeded time when it takes a range."""
    ep = next(e for e in ENDPOINTS if LD_PREFIX + e.path.lstrip("/") == path)
    url = path.format(**LD_PATH)
    if ep.ranged:
        scale = 1 if ep.seconds else 1000
        lo = int((WHEN - timedelta(days=1)).timestamp()) * scale
        hi = int((NOW + timedelta(hours=1)).timestamp()) * scale
        url += f"?from={lo}&to={hi}"
    return Probe(url, READERS)


def walk(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, through included routers."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from walk(inner.routes)
        else:
            yield route


def route_table() -> set[tuple[str, str]]:
    """(method, path) of every route the app serves (HEAD goes with its GET)."""
    app = create_app(Settings(db="unused.db"))
    out: set[tuple[str, str]] = set()
    for route in walk(app.routes):
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                out.add((method, getattr(route, "path", "")))
    return out


def cases() -> dict[tuple[str, str], list[Probe]]:
    """Read probes for every route that has them, LaunchDarkly's generated from its rows."""
    out = dict(READS)
    for method, path in route_table():
        if path.startswith(LD_PREFIX):
            out[(method, path)] = [ld_probe(path)]
    return out


def test_every_route_has_a_case() -> None:
    """A route added to the app without a case here (read probes or a write scenario) fails."""
    covered = set(cases()) | set(WRITES) | {("GET", p) for p in PUBLIC}
    missing = sorted(route_table() - covered)
    assert not missing, f"routes without a scope case: {missing}"
    stale = sorted(covered - route_table())
    assert not stale, f"cases for routes the app no longer has: {stale}"


def ask(world: World, client: TestClient, key: Key, probe: Probe, url: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key.secret}"}
    if probe.style == "amie":
        headers = {"XA-API-KEY": key.secret, "XA-SITE": key.tenant}
    elif probe.style == "elevate":
        headers = {"Authorization": f"Bearer {world.token(client, key)}"}
    return client.request(probe.method, url, headers=headers, json=probe.body)


VOLATILE = {"id", "received", "FailedRecordID", "updated_at", "created", "updated", "hours"}


def normal(reply: httpx.Response) -> Any:
    """A reply without what differs between databases: ids, receive and reply times."""
    if "csv" in reply.headers.get("content-type", ""):
        rows = list(csv.reader(io.StringIO(reply.text)))
        return [r[1:] for r in rows] if rows and "tenantId" in rows[0] else rows

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in VOLATILE}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(reply.json())


def unseen(key: Key) -> list[str]:
    """Text that must never appear in a reply to `key`."""
    other = other_tenant(key.tenant)
    out = [tag(other, s) for s in SUBJECTS] + [f"{other}keyx"]
    return [*out, tag(key.tenant, OTHER)] if key.confined else out


@pytest.mark.slow
def test_no_route_leaks_across_tenants_or_subjects(db_url: str, client: TestClient,
                                                   tmp_path: Path) -> None:  # fmt: skip
    backend = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    with build(client, backend, tmp_path) as world:
        for route, probes in sorted(cases().items()):
            for probe in probes:
                answered = 0
                for key in world.all_keys():
                    url = probe.url if isinstance(probe.url, str) else probe.url(world, key)
                    reply = ask(world, client, key, probe, url)
                    where = f"{route[0]} {url} as {key}: {reply.status_code} {reply.text[:300]}"
                    assert reply.status_code == probe.expect(key), where
                    for text in unseen(key):
                        assert text not in reply.text, f"{text} leaked: {where}"
                    if reply.status_code != 200:
                        continue
                    answered += 1
                    if key.confined:
                        assert OTHER not in reply.text, f"{OTHER} leaked: {where}"
                    if probe.check is not None:
                        probe.check(key, reply.json())
                    if probe.compare:
                        ref_client, ref_key = world.reference(key)
                        ref = ask(world, ref_client, ref_key, probe, url)
                        assert ref.status_code == 200, f"reference: {ref.text[:300]}"
                        assert normal(reply) == normal(ref), where
                # Every probe some key may ask was answered (so its checks ran).
                assert answered or all(probe.expect(k) != 200 for k in world.all_keys()), route
        for scenario in WRITES.values():
            scenario(world)


def test_a_bound_key_sends_only_its_subject_in_every_format(client: TestClient) -> None:
    """Array (fast path), envelope and NDJSON: strangers rejected by index, the rest stored."""
    secret = new_tenant_key(client, "acme", "ingest", subject=OWN)
    reader = new_tenant_key(client, "acme", "read", subject=OWN)
    admin = new_tenant_key(client, "acme", "admin")

    def record(i: int, subject: str) -> dict[str, Any]:
        return {"id": f"r{i}", "type": "job", "subject": subject, "time": iso(WHEN), "data": {}}

    auth = {"Authorization": f"Bearer {secret}"}
    array = client.post("/v1/events", json=[record(1, OWN), record(2, OTHER)], headers=auth)
    envelope = client.post("/v1/events", json={"events": [record(3, OTHER)]}, headers=auth)
    lines = b"\n".join(orjson.dumps(record(i, s)) for i, s in ((4, OTHER), (5, OWN))) + b"\nx\n"
    ndjson = client.post(
        "/v1/events", content=lines, headers={**auth, "Content-Type": "application/x-ndjson"}
    )
    got = [(r.json()["accepted"], [x["index"] for x in r.json()["rejected"]])
           for r in (array, envelope, ndjson)]  # fmt: skip
    assert got == [(1, [1]), (0, [0]), (1, [0, 2])]
    listed = client.get("/v1/events", headers={"Authorization": f"Bearer {admin}"}).json()
    assert sorted(e["id"] for e in listed["data"]) == ["r1", "r5"]
    # The strangers are the sending key's failures: its subject's reader lists them.
    failures = client.get("/v1/failures", headers={"Authorization": f"Bearer {reader}"}).json()
    kept = sorted(f["record"]["id"] for f in failures["data"] if isinstance(f["record"], dict))
    assert kept == ["r2", "r3", "r4"]
