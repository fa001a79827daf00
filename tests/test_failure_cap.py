"""One request keeps at most MAX_FAILURE_ROWS failure rows; every bad record is still
reported with its index, and the reply says how many were not kept."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from usagekit.server.settings import Settings
from usagekit.services.ingest import MAX_FAILURE_ROWS
from usagekit.store import Store
from usagekit.store.schema import failures

NDJSON = {"Content-Type": "application/x-ndjson"}


def failure_rows(settings: Settings) -> int:
    store = Store.open(settings.db, create=False)
    try:
        with store.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(failures)).scalar_one())
    finally:
        store.close()


def ev(i: int, **data: Any) -> dict[str, Any]:
    return {"id": f"e{i}", "source": "s", "type": "job", "subject": "u", "time": i, "data": data}


def test_a_flood_of_bad_lines_keeps_a_bounded_number(
    client: TestClient, settings: Settings
) -> None:
    n = 100_000
    body = b"{}\n" * n
    reply = client.post("/v1/events", content=body, headers=NDJSON)
    assert reply.status_code == 202
    got = reply.json()
    assert got["accepted"] == 0
    assert [r["index"] for r in got["rejected"]] == list(range(n))
    assert got["failures_not_kept"] == n - MAX_FAILURE_ROWS
    assert failure_rows(settings) == MAX_FAILURE_ROWS
    kept = client.get("/v1/failures", params={"limit": 1000}).json()["data"]
    assert all(f["record"] == {} for f in kept)
    hours = client.get("/v1/ingestion").json()
    assert hours["rejected"] == n  # counted in full, kept in part


def test_conflicts_fill_what_rejections_leave(client: TestClient, settings: Settings) -> None:
    first = [ev(i, v=1) for i in range(700)]
    assert client.post("/v1/events", json=first).json()["accepted"] == 700
    changed = [ev(i, v=2) for i in range(700)]
    mixed = b"\n".join([b"not json"] * 600 + [orjson.dumps(e) for e in changed])
    got = client.post("/v1/events", content=mixed, headers=NDJSON).json()
    assert len(got["rejected"]) == 600 and got["conflicts"] == 700
    assert [c["index"] for c in got["conflicting"]] == list(range(600, 1300))
    assert got["failures_not_kept"] == 600 + 700 - MAX_FAILURE_ROWS
    assert failure_rows(settings) == MAX_FAILURE_ROWS

    small = client.post("/v1/events", json=[{}, ev(0, v=3)]).json()
    assert small["failures_not_kept"] == 0 and small["conflicts"] == 1
    assert failure_rows(settings) == MAX_FAILURE_ROWS + 2
