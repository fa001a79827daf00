"""GET /v1/meters and the summary show a tenant's own meters and the presets it uses.

Every tenant has every profile's presets; listing them all made one meter of
one's own show as 23, and presets over the same events as an own meter repeated
its totals in the summary.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import new_tenant_key
from usagekit.core.presets import PRESETS

CPU = {
    "slug": "cpu_time",
    "event_type": "job",
    "aggregation": "sum",
    "value_property": "cpu_time_ms",
    "dimensions": {"project": "project"},
    "unit": "ms",
}
WINDOW = {"from": "2026-11-01T00:00:00Z", "to": "2026-11-08T00:00:00Z"}


def job(i: int, **data: Any) -> dict[str, Any]:
    return {"id": f"j{i}", "source": "slurm", "type": "job", "subject": "alice",
            "time": f"2026-11-02T10:{i:02d}:00Z", "data": {"project": "p1", **data}}  # fmt: skip


def slugs(client: TestClient, **params: Any) -> list[str]:
    reply = client.get("/v1/meters", params=params)
    assert reply.status_code == 200, reply.text
    return [m["slug"] for m in reply.json()]


def summary(client: TestClient, **params: Any) -> dict[str, Any]:
    reply = client.get("/v1/usage/summary", params={**WINDOW, **params})
    assert reply.status_code == 200, reply.text
    return {r["meter"]: r["value"] for r in reply.json()["data"]}


def test_one_meter_of_ones_own_lists_as_one(client: TestClient) -> None:
    assert client.post("/v1/meters", json=CPU).status_code == 201
    assert client.post("/v1/events", json=[job(1, cpu_time_ms=5400)]).status_code == 202
    # elevate.cpu_time_ms counts the same job events as cpu_time: not listed twice
    assert slugs(client) == ["cpu_time"]
    everything = slugs(client, include_presets="true")
    assert len(everything) == 1 + len(PRESETS)
    assert summary(client) == {"cpu_time": 5400}
    assert summary(client, include_presets="true") == {
        "cpu_time": 5400, "elevate.cpu_time_ms": 5400
    }  # fmt: skip


def test_a_used_profile_lists_its_presets_with_values(client: TestClient) -> None:
    key = new_tenant_key(client, "ld-user")
    auth = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/meters", headers=auth).json() == []  # nothing used yet
    evaluations = [{"id": f"e{i}", "source": "ld", "type": "ld.evaluation", "subject": "ctx",
                    "time": f"2026-11-03T0{i}:00:00Z", "data": {"flagKey": "f"}}
                   for i in range(3)]  # fmt: skip
    contexts = {"id": "c1", "source": "ld", "type": "ld.context", "subject": "ctx",
                "time": "2026-11-03T01:00:00Z", "data": {"contextKey": "u1"}}  # fmt: skip
    sent = client.post("/v1/events", json=[*evaluations, contexts], headers=auth)
    assert sent.json()["accepted"] == 4
    listed = [m["slug"] for m in client.get("/v1/meters", headers=auth).json()]
    assert listed == ["ld.contexts", "ld.evaluations"]  # a unique count has no cells
    totals = client.get("/v1/usage/summary", params=WINDOW, headers=auth).json()["data"]
    assert {r["meter"]: r["value"] for r in totals} == {"ld.contexts": 1, "ld.evaluations": 3}
    # other tenants see none of it
    assert slugs(client) == []


def test_a_preset_no_own_meter_repeats_is_listed(client: TestClient) -> None:
    client.post("/v1/meters", json=CPU)
    client.post("/v1/events", json=[job(1, cpu_time_ms=10, data_transfer_bytes=7)])
    assert slugs(client) == ["cpu_time", "elevate.data_transfer_volume_bytes"]
    assert summary(client) == {"cpu_time": 10, "elevate.data_transfer_volume_bytes": 7}


def test_include_presets_must_be_a_boolean(client: TestClient) -> None:
    for path in ("/v1/meters", "/v1/usage/summary"):
        reply = client.get(path, params={"include_presets": "sometimes"})
        assert reply.status_code == 400
        assert reply.json()["error"]["param"] == "include_presets"
