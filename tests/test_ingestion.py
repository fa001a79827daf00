"""GET /v1/ingestion: hourly ingest counters equal the sum of the ingest replies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.conftest import FIXED_NOW, new_tenant_key
from tests.test_ingest import ev
from usagekit.core.events import format_time

FIELDS = ("accepted", "duplicates", "conflicts", "rejected")


def tally(replies: list[dict[str, object]]) -> dict[str, int]:
    """What the ingest replies said, added up: the oracle for the counters."""
    out = dict.fromkeys(FIELDS, 0)
    for r in replies:
        for f in ("accepted", "duplicates", "conflicts"):
            out[f] += int(r[f])  # type: ignore[call-overload]
        out["rejected"] += len(r["rejected"])  # type: ignore[arg-type]
    return out


def test_counters_add_up_the_replies_per_tenant(fixed_client: TestClient) -> None:
    client = fixed_client
    batches = [
        [ev(1), ev(2), ev(3, time="yesterday")],
        [ev(1), ev(2, data={"cpu_ms": 99}), ev(4)],
        [ev(4), ev(5, subject=""), ev(6)],
    ]
    replies = [client.post("/v1/events", json=b).json() for b in batches]
    other = new_tenant_key(client, "acme")
    other_reply = client.post(
        "/v1/events", json=[ev(1), ev(1)], headers={"Authorization": f"Bearer {other}"}
    ).json()

    health = client.get("/v1/ingestion").json()
    assert {f: health[f] for f in FIELDS} == tally(replies)
    assert len(health["hours"]) == 24
    assert {f: sum(h[f] for h in health["hours"]) for f in FIELDS} == tally(replies)
    hour = FIXED_NOW - FIXED_NOW % 3_600_000  # the default window ends with the clock's hour
    assert health["hours"][-1]["start"] == format_time(hour)
    assert health["to"] == format_time(hour + 3_600_000)

    theirs = client.get("/v1/ingestion", headers={"Authorization": f"Bearer {other}"}).json()
    assert {f: theirs[f] for f in FIELDS} == tally([other_reply])


def test_retries_count_as_ingest_attempts(client: TestClient) -> None:
    first = client.post("/v1/events", json=[ev(1), ev(2)]).json()
    conflict = client.post("/v1/events", json=[ev(1, data={"cpu_ms": 7}), ev(3)]).json()
    [failure] = client.get("/v1/failures").json()["data"]
    still = client.post(f"/v1/failures/{failure['id']}/retry").json()
    client.post("/v1/events/void", json={"ids": ["e1"], "source": "slurm"})
    again = client.post(f"/v1/failures/{failure['id']}/retry").json()
    health = client.get("/v1/ingestion").json()
    replies = [first, conflict, still["result"], again["result"]]
    assert {f: health[f] for f in FIELDS} == tally(replies)
    assert health["conflicts"] >= 2


def test_range_is_whole_hours_and_checked(client: TestClient) -> None:
    client.post("/v1/events", json=[ev(1)])
    now = datetime.now(UTC)
    past = client.get(
        "/v1/ingestion",
        params={"from": (now - timedelta(days=3)).isoformat(), "to": (now - timedelta(days=2))},
    ).json()
    assert len(past["hours"]) in (24, 25) and past["accepted"] == 0
    assert past["from"].endswith(":00:00Z")
    bad = client.get("/v1/ingestion", params={"from": "soon"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "from"
    backwards = client.get(
        "/v1/ingestion", params={"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
    )
    assert backwards.status_code == 400 and backwards.json()["error"]["param"] == "to"


def test_subject_bound_keys_may_not_read_it(client: TestClient) -> None:
    alice = new_tenant_key(client, "default", role="read", subject="alice")
    reply = client.get("/v1/ingestion", headers={"Authorization": f"Bearer {alice}"})
    assert reply.status_code == 403
    ingest = new_tenant_key(client, "default", role="ingest")
    assert (
        client.get("/v1/ingestion", headers={"Authorization": f"Bearer {ingest}"}).status_code
        == 403
    )
