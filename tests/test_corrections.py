"""Voids, rebuilds, and the failures list (clear and retry)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from usagekit.core.presets import PRESETS
from usagekit.store import Store

METER = {
    "slug": "cpu",
    "event_type": "job",
    "aggregation": "sum",
    "value_property": "cpu",
    "dimensions": {"project": "project"},
}
RANGE = {"from": "2026-11-01T00:00:00Z", "to": "2026-11-05T00:00:00Z"}


def job(i: int, cpu: float, day: int = 2, project: str = "p1") -> dict[str, Any]:
    return {
        "id": f"j{i}",
        "source": "slurm",
        "type": "job",
        "subject": "alice",
        "time": f"2026-11-0{day}T1{i % 10}:00:00Z",
        "data": {"cpu": cpu, "project": project},
    }


def totals(client: TestClient, **params: Any) -> list[Any]:
    reply = client.get("/v1/meters/cpu/query", params={**RANGE, **params})
    assert reply.status_code == 200, reply.text
    return [row["value"] for row in reply.json()["data"]]


def test_void_removes_from_every_aggregate_and_stays_listed(client: TestClient) -> None:
    client.post("/v1/meters", json=METER)
    client.post("/v1/meters", json={**METER, "slug": "peak", "aggregation": "max"})
    client.post("/v1/events", json=[job(1, 1.5), job(2, 2.25, day=3), job(3, 100)])
    assert totals(client) == [0, 1.5 + 100, 2.25, 0]
    reply = client.post("/v1/events/void", json={"ids": ["j3", "nope"], "source": "slurm"})
    assert reply.json() == {"voided": ["j3"], "already_voided": [], "not_found": ["nope"]}
    assert totals(client) == [0, 1.5, 2.25, 0]
    peak = client.get("/v1/meters/peak/query", params=RANGE).json()["data"]
    assert [r["value"] for r in peak] == [None, 1.5, 2.25, None]
    listed = {e["id"]: e for e in client.get("/v1/events").json()["data"]}
    assert listed["j3"]["voided"] is True
    assert listed["j1"]["voided"] is False
    # Voiding twice changes nothing and says when it was voided (200: idempotent);
    # re-sending a voided event does not revive it.
    again = client.post("/v1/events/void", json={"ids": ["nope", "j3"], "source": "slurm"})
    assert again.status_code == 200
    assert again.json() == {
        "voided": [],
        "already_voided": [{"id": "j3", "voided_at": listed["j3"]["voided_at"]}],
        "not_found": ["nope"],
    }
    assert totals(client) == [0, 1.5, 2.25, 0]
    assert client.post("/v1/events", json=[job(3, 100)]).json()["duplicates"] == 1
    assert totals(client) == [0, 1.5, 2.25, 0]


def test_rebuild_gives_the_same_answers(client: TestClient, settings: Any) -> None:
    client.post("/v1/meters", json=METER)
    client.post(
        "/v1/meters", json={"slug": "users", "event_type": "job", "aggregation": "unique_count"}
    )
    events = [job(i, i * 0.1, day=1 + i % 4, project=f"p{i % 3}") for i in range(40)]
    client.post("/v1/events", json=events)
    client.post("/v1/events/void", json={"ids": ["j5", "j7"], "source": "slurm"})
    before = totals(client, group_by="project", tz="Asia/Kolkata")
    users = client.get(
        "/v1/meters/users/query", params={**RANGE, "aggregation_type": "rolling_7d"}
    ).json()
    store = Store.open(settings.db)
    try:
        assert store.rebuild() >= 2
    finally:
        store.close()
    assert totals(client, group_by="project", tz="Asia/Kolkata") == before
    again = client.get("/v1/meters/users/query", params={**RANGE, "aggregation_type": "rolling_7d"})
    assert again.json() == users


def test_conflict_kept_as_failure_can_be_retried_after_voiding_the_original(
    client: TestClient,
) -> None:
    client.post("/v1/meters", json=METER)
    client.post("/v1/events", json=[job(1, 5)])
    reply = client.post("/v1/events", json=[job(1, 7)]).json()
    assert reply["conflicts"] == 1
    [failure] = client.get("/v1/failures").json()["data"]
    retry = client.post(f"/v1/failures/{failure['id']}/retry").json()
    assert retry["cleared"] is False
    client.post("/v1/events/void", json={"ids": ["j1"], "source": "slurm"})
    # The voided original still holds the id: a correction takes a new id.
    retry = client.post(f"/v1/failures/{failure['id']}/retry").json()
    assert retry["cleared"] is False
    assert client.post("/v1/events", json=[{**job(1, 7), "id": "j1-fixed"}]).json()["accepted"] == 1
    assert client.delete(f"/v1/failures/{failure['id']}").status_code == 204
    assert client.get("/v1/failures").json()["data"] == []
    assert totals(client) == [0, 7, 0, 0]


def test_fixed_failure_is_stored_on_retry_and_cleared(client: TestClient) -> None:
    client.post("/v1/meters", json=METER)
    bad = {**job(1, 5), "time": "2026-11-02 10:00"}  # no offset: rejected
    assert client.post("/v1/events", json=[bad]).json()["rejected"]
    [failure] = client.get("/v1/failures").json()["data"]
    assert "offset" in failure["error"]
    retry = client.post(f"/v1/failures/{failure['id']}/retry").json()
    assert retry["cleared"] is False
    assert client.get("/v1/failures").json()["data"][0]["id"] == failure["id"]
    assert client.delete("/v1/failures/999999").status_code == 404


def test_failures_page_with_cursor(client: TestClient) -> None:
    client.post("/v1/events", json=[{"id": str(i)} for i in range(25)])
    first = client.get("/v1/failures", params={"limit": 10}).json()
    second = client.get("/v1/failures", params={"limit": 10, "cursor": first["next_cursor"]}).json()
    third = client.get("/v1/failures", params={"limit": 10, "cursor": second["next_cursor"]}).json()
    ids = [f["id"] for page in (first, second, third) for f in page["data"]]
    assert len(ids) == len(set(ids)) == 25
    assert third["next_cursor"] is None


def test_rebuild_command_recomputes_from_raw_events(client: TestClient, settings: Any) -> None:
    client.post("/v1/meters", json=METER)
    client.post("/v1/events", json=[job(i, i + 0.5, day=1 + i % 4) for i in range(20)])
    before = totals(client, tz="America/New_York")
    store = Store.open(settings.db)
    try:  # damage the rollups so the rebuild has something to fix
        with store.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM rollups")
    finally:
        store.close()
    assert set(totals(client, tz="America/New_York")) == {0}
    assert any(before)
    usagekit = str(Path(sys.executable).with_name("usagekit"))
    done = subprocess.run(
        [usagekit, "rebuild", "--db", settings.db],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"rebuilt {1 + len(PRESETS)} meter" in done.stderr  # the cpu meter and the presets
    assert totals(client, tz="America/New_York") == before
