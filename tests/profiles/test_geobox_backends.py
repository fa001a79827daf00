"""Geobox routes in-process on every backend (SQLite and PostgreSQL): numbers, access
rules and the recompute of update_usage, against the plain-Python oracle."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.profiles import geobox_data as data
from usagekit.server.settings import Settings
from usagekit.store import Store

API = "/api/v1"


def test_geobox_routes(client: TestClient, settings: Settings) -> None:
    now = data.now_ms()
    evs = data.events(now, 600, 5)
    assert client.post("/v1/events", json=evs).json()["accepted"] == 600
    u7 = client.post("/v1/keys", json={"role": "read", "subject": "7"}).json()["key"]
    admin7 = client.post("/v1/keys", json={"role": "admin", "subject": "7"}).json()["key"]

    def get(path: str, key: str, **params: Any) -> Any:
        reply = client.get(f"{API}/{path}", params={**params, "apikey": key})
        return reply.status_code, reply.json()

    assert get("users/me/", u7)[1]["id"] == 7
    assert get("users/me/", admin7)[1]["role"] == "Account Admin"
    assert get("usage/summary", u7, user_id="8")[0] == 403
    status, summary = get("usage/summary", admin7, user_id="8")
    assert status == 200 and data.same(summary, data.summary(evs, "8")) and summary["calls"]
    lo, hi = now - 40 * data.DAY, now - data.DAY
    dates = {"from_date": data.naive(lo // 1000 * 1000), "to_date": data.naive(hi // 1000 * 1000)}
    lo, hi = lo // 1000 * 1000, hi // 1000 * 1000
    for scale in ("day", "month"):
        for param in ("calls", "traffic"):
            q = {"scale": scale, "param": param, "limit": "60", **dates}
            want = data.series(evs, lo, hi, scale, param, 60, subject="7")
            assert get("usage/api", u7, eid="7", **q) == (200, want)
            want = data.series(evs, lo, hi, scale, param, 60, apikey="pk-31-2")
            assert get("usage/api", admin7, eid="pk-31-2", **q) == (200, want)
            assert any(row["value"] for row in want)
            assert get("usage/api", u7, eid="pk-31-2", **q)[0] == 403
    status, secs = get("usage/process", u7, **dates)
    assert status == 200 and abs(secs - data.process(evs, "7", lo, hi)) < 1e-6 and secs > 0

    # lose every geobox aggregate; each user's update_usage rebuilds the days they used
    q = {"scale": "month", "param": "traffic", "limit": "12", **dates}
    before = get("usage/api", admin7, eid="pk-8-2", **q)
    store = Store.open(settings.db)
    try:
        with store.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM rollups")
    finally:
        store.close()
    assert not any(row["value"] for row in get("usage/api", admin7, eid="pk-8-2", **q)[1])
    reply = client.post(f"{API}/usage/update", params={"apikey": admin7}, json={"user_id": 8})
    assert reply.status_code == 200 and data.same(reply.json(), data.summary(evs, "8"))
    assert get("usage/api", admin7, eid="pk-8-2", **q) == before
    assert any(row["value"] for row in before[1])
