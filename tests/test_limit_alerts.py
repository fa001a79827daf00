"""Alerts made at commit time, by example: crossed once per threshold and period, cleared by
a void, a new month clean, unique counts tenant-wide, a redefinition, and a SIGKILLed
server mid-ingest that loses no alert and delivers each exactly once per webhook-id.
(tests/test_limit_alerts_oracle.py checks the same rules on random commits.)"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_KEY
from tests.live import free_port, serve
from tests.test_webhooks_live import FAST
from tests.webhook_receiver import Receiver
from usagekit.core.clock import FixedClock

T0 = 1_788_220_800_000  # 2026-09-01T00:00:00Z
DAY = 86_400_000


def alerts(client: TestClient) -> list[tuple[Any, ...]]:
    """Every alert of the tenant, oldest first, as (type, limit, subject, threshold, usage)."""
    found = client.get("/v1/alerts", params={"limit": 1000}).json()["data"]
    return [(a["type"][6:], a["limit"], a["subject"], a["threshold"], a["usage"])
            for a in reversed(found)]  # fmt: skip


def send(client: TestClient, *events: tuple[str, str, int, int]) -> None:
    """(id, subject, value, time) events of type api_call."""
    body = [{"id": i, "source": "t", "type": "api_call", "subject": s, "time": t,
             "data": {"n": v}} for i, s, v, t in events]  # fmt: skip
    reply = client.post("/v1/events", json=body)
    assert reply.status_code == 202, reply.text


def status(client: TestClient, slug: str, **params: Any) -> dict[str, Any]:
    reply = client.get(f"/v1/limits/{slug}/status", params=params)
    assert reply.status_code == 200, reply.text
    found: dict[str, Any] = reply.json()
    return found


@pytest.fixture
def metered(fixed_client: TestClient, clock: FixedClock) -> TestClient:
    clock.at_ms = T0 + DAY
    meter = {"slug": "calls", "event_type": "api_call", "aggregation": "sum",
             "value_property": "n"}  # fmt: skip
    assert fixed_client.post("/v1/meters", json=meter).status_code == 201
    made = fixed_client.post("/v1/limits", json={
        "slug": "plan", "meter": "calls", "period": "month", "limit": 100,
        "thresholds": [50, 100],
    })  # fmt: skip
    assert made.status_code == 201, made.text
    return fixed_client


def test_thresholds_cross_once_clear_on_void_and_start_clean(
    metered: TestClient, clock: FixedClock
) -> None:
    c = metered
    send(c, ("a1", "alice", 30, T0 + DAY))
    assert alerts(c) == []
    send(c, ("a2", "alice", 30, T0 + DAY), ("b1", "bob", 10, T0 + DAY))
    assert alerts(c) == [("threshold_crossed", "plan", "alice", 50, 60)]
    send(c, ("a3", "alice", 50, T0 + 2 * DAY), ("a3", "alice", 50, T0 + 2 * DAY))
    send(c, ("a4", "alice", 1, T0 + 2 * DAY))  # still over: nothing new
    assert alerts(c)[1:] == [("threshold_crossed", "plan", "alice", 100, 110)]
    assert status(c, "plan", subject="alice")["usage"] == 111
    assert status(c, "plan", subject="alice")["has_access"] is False
    voided = c.post("/v1/events/void", json={"ids": ["a3"], "source": "t"})
    assert voided.status_code == 200
    assert alerts(c)[2:] == [("threshold_cleared", "plan", "alice", 100, 61)]
    assert status(c, "plan", subject="alice") | {"usage": 61, "has_access": True} == status(
        c, "plan", subject="alice"
    )
    # October is a new period: September's crossings don't carry into it.
    clock.at_ms = T0 + 31 * DAY
    send(c, ("a5", "alice", 70, T0 + 31 * DAY))
    last = c.get("/v1/alerts", params={"limit": 1}).json()["data"][0]
    assert (last["threshold"], last["usage"], last["period_start"]) == (
        50, 70, "2026-10-01T00:00:00Z"
    )  # fmt: skip
    # A late September event moves September only.
    send(c, ("a6", "alice", 100, T0 + 3 * DAY))
    assert alerts(c)[-1] == ("threshold_crossed", "plan", "alice", 100, 161)
    assert status(c, "plan", subject="alice")["usage"] == 70


def test_lowering_a_limit_alerts_at_the_next_commit(metered: TestClient) -> None:
    c = metered
    send(c, ("a1", "alice", 40, T0 + DAY))
    assert alerts(c) == []
    assert c.patch("/v1/limits/plan", json={"limit": 60}).status_code == 200
    send(c, ("a2", "alice", 1, T0 + DAY))
    assert alerts(c) == [("threshold_crossed", "plan", "alice", 50, 41)]
    # Redefining what is counted drops the kept usage: the next commit counts it again.
    assert c.patch("/v1/limits/plan", json={"tz": "Asia/Kathmandu"}).status_code == 200
    send(c, ("a3", "alice", 30, T0 + DAY))
    assert status(c, "plan", subject="alice")["usage"] == 71
    assert alerts(c)[1:] == [
        ("threshold_crossed", "plan", "alice", 50, 71),
        ("threshold_crossed", "plan", "alice", 100, 71),
    ]


def test_unique_subjects_tenant_wide(fixed_client: TestClient, clock: FixedClock) -> None:
    c = fixed_client
    clock.at_ms = T0 + DAY
    meter = {"slug": "mau", "event_type": "api_call", "aggregation": "unique_count"}
    assert c.post("/v1/meters", json=meter).status_code == 201
    made = c.post("/v1/limits", json={"slug": "mau-cap", "meter": "mau", "period": "month",
                                      "limit": 3, "scope": "tenant"})  # fmt: skip
    assert made.status_code == 201
    send(c, ("e1", "alice", 1, T0), ("e2", "alice", 1, T0 + DAY), ("e3", "bob", 1, T0))
    assert status(c, "mau-cap")["usage"] == 2
    send(c, ("e4", "bob", 1, T0 + 2 * DAY), ("e5", "carol", 1, T0 + 2 * DAY))
    assert alerts(c) == [("threshold_crossed", "mau-cap", None, 100, 3)]
    assert c.post("/v1/events/void", json={"ids": ["e5"], "source": "t"}).status_code == 200
    assert alerts(c)[1:] == [("threshold_cleared", "mau-cap", None, 100, 2)]
    assert status(c, "mau-cap")["usage"] == 2


@pytest.mark.slow
def test_sigkill_mid_ingest_loses_no_alert(db_url: str, tmp_path: Path) -> None:
    """Alerts are committed with the usage: after a SIGKILL and a resend of every batch,
    each subject has exactly the crossings its final usage reached, each delivered."""
    receiver = Receiver(free_port())
    receiver.start()
    port = free_port()
    subjects = [f"s{k}" for k in range(8)]
    now = time.time_ns() // 1_000_000
    batches = [[{"id": f"b{n}-{k}", "source": "t", "type": "api_call",
                 "subject": subjects[(n + k) % 8], "data": {"n": 1 + k % 3}, "time": now}
                for k in range(40)] for n in range(120)]  # fmt: skip
    try:
        with serve(db_url, tmp_path, *FAST, port=port) as live, live.client() as c:
            meter = {"slug": "calls", "event_type": "api_call", "aggregation": "sum",
                     "value_property": "n"}  # fmt: skip
            assert c.post("/v1/meters", json=meter).status_code == 201
            assert c.post("/v1/limits", json={
                "slug": "plan", "meter": "calls", "period": "month", "limit": 1000,
                "thresholds": [10, 25, 50, 75, 100],
            }).status_code == 201  # fmt: skip
            made = c.post("/v1/webhooks", json={"url": receiver.url})
            assert made.status_code == 201, made.text
            sent = threading.Event()

            def sender() -> None:
                with httpx.Client(
                    base_url=live.url, timeout=10, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
                ) as h:
                    for n, batch in enumerate(batches):
                        try:
                            h.post("/v1/events", json=batch)
                        except httpx.TransportError:
                            return
                        if n == 30:
                            sent.set()  # fmt: skip

            thread = threading.Thread(target=sender)
            thread.start()
            assert sent.wait(30)
            live.kill()
            thread.join(30)
        with serve(db_url, tmp_path, *FAST, port=port) as live, live.client() as c:
            for batch in batches:
                assert c.post("/v1/events", json=batch).status_code == 202
            usage = {s: status_of(c, s)["usage"] for s in subjects}
            found = c.get("/v1/alerts", params={"limit": 1000}).json()["data"]
            got_all = receiver.wait(lambda g: len({r.id for r in g}) >= len(found), 60)
    finally:
        receiver.stop()
    got = sorted((a["subject"], a["threshold"]) for a in found)
    want = sorted(
        (s, t) for s in subjects for t in (10, 25, 50, 75, 100) if usage[s] * 10 >= t * 100
    )
    assert got == want and {a["type"] for a in found} == {"limit.threshold_crossed"}
    delivered = {r.id: r.json()["data"] for r in got_all}
    assert sorted((d["subject"], d["threshold"]) for d in delivered.values()) == want


def status_of(c: httpx.Client, subject: str) -> dict[str, Any]:
    reply = c.get("/v1/limits/plan/status", params={"subject": subject})
    assert reply.status_code == 200, reply.text
    found: dict[str, Any] = reply.json()
    return found


def test_a_rolling_window_kept_at_a_later_clock_is_recounted(
    fixed_client: TestClient, clock: FixedClock
) -> None:
    """Events committed while the clock is a day or more behind a window kept earlier,
    and a void that moves nothing of the commit's own window, leave that window stale:
    its status and its next commit count the events again (found by the oracle)."""
    c = fixed_client
    meter = {"slug": "calls", "event_type": "api_call", "aggregation": "sum",
             "value_property": "n"}  # fmt: skip
    assert c.post("/v1/meters", json=meter).status_code == 201
    made = c.post("/v1/limits", json={"slug": "week", "meter": "calls", "period": "rolling_7d",
                                      "limit": 100})  # fmt: skip
    assert made.status_code == 201, made.text
    clock.at_ms = T0 + 10 * DAY
    send(c, ("a1", "alice", 10, T0 + 9 * DAY), ("b1", "bob", 5, T0 + 9 * DAY))
    clock.at_ms = T0 + 2 * DAY  # back: this commit's window ends on day 2
    send(c, ("a2", "alice", 95, T0 + 8 * DAY))  # not in it, but in alice's kept window
    clock.at_ms = T0 + 3 * DAY
    c.post("/v1/events/void", json={"ids": ["b1"], "source": "t"}).raise_for_status()
    clock.at_ms = T0 + 10 * DAY
    assert status(c, "week", subject="alice")["usage"] == 105
    assert status(c, "week", subject="bob")["usage"] == 0
    send(c, ("a3", "alice", 1, T0 + 10 * DAY))
    assert alerts(c) == [("threshold_crossed", "week", "alice", 100, 106)]
    assert status(c, "week", subject="alice")["usage"] == 106
