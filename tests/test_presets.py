"""Preset meters of the seed profiles: in every tenant, reserved, kept equal to their definition."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import new_tenant_key
from usagekit.core.clock import END_OF_TIME
from usagekit.core.events import parse_record
from usagekit.core.presets import PRESETS, plan, preset, profile_of
from usagekit.services.caller import Caller
from usagekit.services.presets import ensure_presets
from usagekit.services.queries.series import Query
from usagekit.services.usage import meter_total
from usagekit.store import Store, TenantBatch

T0 = 1793577600000  # 2026-11-02T00:00:00Z


def jobs(n: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"j{i}",
            "source": "s",
            "type": "job",
            "subject": f"u{i % 3}",
            "time": T0 + i * 60_000,
            "data": {"cpu_time_ms": i * 7, "data_transfer_bytes": i % 5, "cpu_ms": i},
        }
        for i in range(50)
    ][:n]


def test_every_tenant_has_the_presets(client: TestClient) -> None:
    expected = {m.slug: profile_of(m.slug) for m in PRESETS}
    listed = {
        m["slug"]: m["profile"]
        for m in client.get("/v1/meters?include_presets=true").json()
        if m["profile"]
    }
    assert listed == expected and all(expected.values())
    other = new_tenant_key(client, "acme")
    theirs = client.get(
        "/v1/meters?include_presets=true", headers={"Authorization": f"Bearer {other}"}
    ).json()
    assert {m["slug"] for m in theirs if m["profile"]} == set(expected)


def test_presets_are_reserved(client: TestClient) -> None:
    taken = client.post("/v1/meters", json={"slug": "elevate.mine", "event_type": "job",
                                            "aggregation": "count"})  # fmt: skip
    assert taken.status_code == 400 and taken.json()["error"]["param"] == "slug"
    assert "reserved for the elevate profile" in taken.json()["error"]["message"]
    kept = client.delete("/v1/meters/elevate.cpu_time_ms")
    assert kept.status_code == 409 and "preset" in kept.json()["error"]["message"]
    assert client.get("/v1/meters/elevate.cpu_time_ms").status_code == 200
    # a user meter whose slug merely contains a dot outside any namespace is fine
    own = {"slug": "my.jobs", "event_type": "job", "aggregation": "count"}
    assert client.post("/v1/meters", json=own).status_code == 201


def test_native_numbers_equal_the_events_and_idle_presets_stay_out_of_the_summary(
    client: TestClient,
) -> None:
    sent = jobs(50)
    assert client.post("/v1/events", json=sent).status_code == 202
    window = {"from": "2026-11-02T00:00:00Z", "to": "2026-11-03T00:00:00Z"}
    summary = client.get("/v1/usage/summary", params=window).json()["data"]
    got = {r["meter"]: r["value"] for r in summary}
    cpu = sum(int(e["data"]["cpu_time_ms"]) for e in sent)
    moved = sum(int(e["data"]["data_transfer_bytes"]) for e in sent)
    assert got == {"elevate.cpu_time_ms": cpu, "elevate.data_transfer_volume_bytes": moved}


def test_a_changed_preset_is_replaced_and_recomputed(store: Store) -> None:
    tenant = store.accounts.create_tenant("t")
    events = [(i, parse_record(e)) for i, e in enumerate(jobs(40))]
    store.events.write([TenantBatch.of(tenant.id, events)])
    right = preset("elevate.cpu_time_ms")
    store.create_meter(tenant.id, replace(right, value_property="cpu_ms"))  # an old definition
    drop, create = plan(store.meters.for_tenant(tenant.id))
    assert [m.slug for m in drop] == ["elevate.cpu_time_ms"]
    assert len(create) == len(PRESETS)
    assert ensure_presets(store, [tenant.id]) == len(PRESETS)
    assert ensure_presets(store, [tenant.id]) == 0  # idempotent
    total = meter_total(store, Query(store), Caller.tenant(tenant.id), right.slug, 0, END_OF_TIME)
    assert total == sum(e.data["cpu_time_ms"] for _, e in events)
    assert store.meters.get(tenant.id, right.slug).value_property == "cpu_time_ms"  # type: ignore[union-attr]
