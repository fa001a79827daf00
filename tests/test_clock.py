"""One clock: the server's stamps and default windows follow the store's clock exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from fastapi.testclient import TestClient

from tests.conftest import FIXED_NOW
from tests.test_ingest import ev
from usagekit.core.clock import END_OF_TIME, FixedClock, SystemClock
from usagekit.core.events import MAX_TIME_MS, format_time

HOUR = 3_600_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY = 24 * HOUR


def instant(text: str) -> int:
    return (datetime.fromisoformat(text) - EPOCH) // timedelta(milliseconds=1)


def test_end_of_time_is_the_edge_after_the_last_instant_taken() -> None:
    assert END_OF_TIME == MAX_TIME_MS + 1
    assert format_time(MAX_TIME_MS) == "9999-12-31T23:59:59.999Z"
    assert END_OF_TIME % DAY == 0  # a day edge, so open-ended totals end on whole days
    clock = SystemClock()
    assert 0 < clock.now_ms() < END_OF_TIME


def test_stamps_are_the_store_clocks(fixed_client: TestClient, clock: FixedClock) -> None:
    c = fixed_client
    assert c.post("/v1/events", json=[ev(1), ev(2)]).json()["accepted"] == 2
    clock.advance(90 * 60_000)  # 1h30 later
    conflict = c.post("/v1/events", json=[ev(1, data={"cpu_ms": 99})]).json()
    assert conflict["conflicts"] == 1
    clock.advance(5_000)
    assert c.post("/v1/events/void", json={"source": "slurm", "ids": ["e2"]}).json()["voided"]
    clock.advance(1)
    key = c.post("/v1/keys", json={"role": "read"}).json()

    listed = {e["id"]: e for e in c.get("/v1/events").json()["data"]}
    assert listed["e1"]["received"] == format_time(FIXED_NOW)
    assert listed["e2"]["voided_at"] == format_time(FIXED_NOW + 90 * 60_000 + 5_000)
    [failure] = c.get("/v1/failures").json()["data"]
    assert failure["received"] == format_time(FIXED_NOW + 90 * 60_000)
    assert key["created"] == format_time(FIXED_NOW + 90 * 60_000 + 5_001)


def test_default_windows_end_at_the_clocks_now(fixed_client: TestClient, clock: FixedClock) -> None:
    c = fixed_client
    c.post("/v1/events", json=[ev(1), ev(2, subject="")])
    health = c.get("/v1/ingestion").json()
    hour = FIXED_NOW - FIXED_NOW % HOUR
    assert health["to"] == format_time(hour + HOUR)
    assert health["from"] == format_time(hour + HOUR - 24 * HOUR)
    assert (health["accepted"], health["rejected"]) == (1, 1)
    assert [h["start"] for h in health["hours"] if h["accepted"]] == [format_time(hour)]

    c.post("/v1/meters", json={"slug": "jobs", "event_type": "job", "aggregation": "count"})
    query = c.get("/v1/meters/jobs/query").json()
    assert instant(query["to"]) == FIXED_NOW
    day = FIXED_NOW - FIXED_NOW % DAY
    assert instant(query["from"]) == day - 30 * DAY

    clock.advance(2 * DAY)  # the default window moves with the clock, nothing else
    later = c.get("/v1/ingestion").json()
    assert later["to"] == format_time(hour + 2 * DAY + HOUR) and later["accepted"] == 0


def test_elevate_tokens_live_one_hour_of_the_clock(
    fixed_client: TestClient, clock: FixedClock
) -> None:
    c = fixed_client
    key = c.post("/v1/keys", json={"role": "read"}).json()
    got = c.post("/exchange-auth-code", json={"clientId": key["id"], "secret": key["key"]})
    token = got.json()["accessToken"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["iat"], claims["exp"]) == (FIXED_NOW // 1000, FIXED_NOW // 1000 + 3600)

    def status() -> int:
        url = "/api/umon/v1/usage-metrics"
        ask = {"metricType": "CPU_TIME_MS"}
        return c.get(url, params=ask, headers={"Authorization": f"Bearer {token}"}).status_code

    clock.advance(3599_000)
    assert status() == 200
    clock.advance(1_000)  # exp reached: refused, though the real clock says nothing of it
    assert status() == 401
