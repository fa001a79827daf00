"""Elevate: earnix-elevate's UsageMonitoringService, unmodified, against `usagekit serve`.

The client reaches server="localhost" at http://localhost:8200 only, so this test
holds a machine-wide lock on that port while its server runs.
"""

from __future__ import annotations

import csv
import io
import random
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.live import Live, serve
from tests.profiles.vendor import file_lock, run_script, vendor_python

T0 = 1793577600000  # 2026-11-02T00:00:00Z
HOUR = 3_600_000
METRICS = {"CPU_TIME_MS": "cpu_time_ms", "DATA_TRANSFER_VOLUME_BYTES": "data_transfer_bytes"}


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def jobs(n: int, seed: int, tenant_tag: str) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        data: dict[str, Any] = {"job_id": f"{tenant_tag}-{i}", "job_name": f"train, run {i}",
                                "cpu_time_ms": rng.randint(1, 90_000)}  # fmt: skip
        if i % 3:
            data["data_transfer_bytes"] = rng.randint(0, 10**9)
        out.append({"id": f"job-{i}", "source": "elevate", "type": "job", "subject": f"u{i % 4}",
                    "time": T0 + rng.randint(0, 72) * HOUR + i, "data": data})  # fmt: skip
    return out


@pytest.fixture(scope="module")
def elevate_python() -> Path:
    return vendor_python("elevate")


@pytest.fixture(scope="module")
def live(module_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("elevate")
    lock = Path(tempfile.gettempdir()) / "usagekit-port-8200.lock"
    with file_lock(lock), serve(module_db, tmp, port=8200) as server:
        yield server


def oracle(events: list[dict[str, Any]], prop: str, lo: int, hi: int) -> int:
    return sum(e["data"].get(prop, 0) for e in events if lo <= e["time"] < hi)


@pytest.mark.slow
def test_vendor_client_against_usagekit(live: Live, elevate_python: Path) -> None:
    ours, theirs = jobs(400, 1, "a"), jobs(100, 2, "b")
    with live.client() as admin:
        assert admin.post("/v1/events", json=ours).status_code == 202
        assert admin.post("/v1/events", json=ours[:50]).json()["duplicates"] == 50
        admin.post("/v1/tenants", json={"name": "other"})
        other = admin.post("/v1/keys", json={"tenant": "other", "role": "admin"}).json()["key"]
        with live.client(other) as c:
            assert c.post("/v1/events", json=theirs).status_code == 202
        voided = ours.pop(7)
        admin.post("/v1/events/void", json={"source": "elevate", "ids": [voided["id"]]})
        reader = admin.post("/v1/keys", json={"role": "read", "name": "elevate"}).json()
    env = {"E2_SERVER": "localhost", "E2_CLIENT_ID": reader["id"], "E2_SECRET_KEY": reader["key"]}
    windows = [(None, None), (T0 + 5 * HOUR, T0 + 30 * HOUR), (T0 + 70 * HOUR, None)]
    asked = [(metric, lo, hi) for metric in METRICS for lo, hi in windows]
    calls = [[m, lo and iso(lo), hi and iso(hi)] for m, lo, hi in asked]
    got = run_script(elevate_python, "elevate_calls.py", orjson.dumps(calls).decode(), env=env)

    for (metric, lo, hi), (name, total), text in zip(
        asked, got["summaries"], got["downloads"], strict=True
    ):
        lo, hi, prop = lo or 0, hi or 2**62, METRICS[metric]
        assert (name, total) == (metric, oracle(ours, prop, lo, hi))
        assert total > 0
        rows = list(csv.DictReader(io.StringIO(text)))
        expected = sorted(
            e["data"]["job_id"] for e in ours if prop in e["data"] and lo <= e["time"] < hi
        )
        assert sorted(orjson.loads(r["details"])["job_id"] for r in rows) == expected
        assert sorted(r["jobId"] for r in rows) == expected
        assert sum(int(r["metricValue"]) for r in rows) == total
        assert {r["tenantId"] for r in rows} <= {"default"}
        assert all(
            r["metricType"] == metric and r["jobName"].startswith("train, run") for r in rows
        )

    status, content_type, body = got["errors"]["unknown_metric"]
    assert status == 400 and content_type.startswith("application/problem+json")
    problem = orjson.loads(body)
    assert problem["status"] == 400 and "GPU_TIME" in problem["detail"] and problem["title"]
    assert "Invalid credentials" in got["errors"]["wrong_secret"]


def test_wire_errors(live: Live) -> None:
    with live.client() as admin:
        reader = admin.post("/v1/keys", json={"role": "read"}).json()
    bad = httpx.post(f"{live.url}/exchange-auth-code", json={"clientId": "key_x", "secret": "nope"})
    assert bad.status_code == 401 and bad.headers["content-type"] == "application/problem+json"
    wrong_id = {"clientId": "key_other", "secret": reader["key"]}
    assert httpx.post(f"{live.url}/exchange-auth-code", json=wrong_id).status_code == 401
    token = httpx.post(
        f"{live.url}/exchange-auth-code", json={"clientId": reader["id"], "secret": reader["key"]}
    ).json()["accessToken"]
    url = f"{live.url}/api/umon/v1/usage-metrics"
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(url, params={"metricType": "CPU_TIME_MS"}).status_code == 401
    # One whole character of the signature changed (the last ones may carry padding bits).
    swapped = "A" if token[-10] != "A" else "B"
    tampered = {"Authorization": f"Bearer {token[:-10]}{swapped}{token[-9:]}"}
    assert httpx.get(url, params={"metricType": "CPU_TIME_MS"}, headers=tampered).status_code == 401
    missing = httpx.get(url, headers=headers)
    assert missing.status_code == 400 and "metricType" in missing.json()["detail"]
    dates = {"metricType": "CPU_TIME_MS", "startDate": "yesterday"}
    assert "startDate" in httpx.get(url, params=dates, headers=headers).json()["detail"]
    backwards = {"metricType": "CPU_TIME_MS", "startDate": iso(T0 + HOUR), "endDate": iso(T0)}
    assert httpx.get(url, params=backwards, headers=headers).status_code == 400
    with live.client() as admin:
        admin.delete(f"/v1/keys/{reader['id']}")
    revoked = httpx.get(url, params={"metricType": "CPU_TIME_MS"}, headers=headers)
    assert revoked.status_code == 401 and revoked.json()["status"] == 401


def test_compat_service(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    from usagekit.compat.elevate import ElevateConfigurationException, UsageMonitoringService
    from usagekit.errors import AuthenticationError, ValidationError

    events = jobs(120, 3, "c")
    with live.client() as admin:
        admin.post("/v1/tenants", json={"name": "compat"})
        owner = admin.post("/v1/keys", json={"tenant": "compat", "role": "admin"}).json()
    with live.client(owner["key"]) as c:
        assert c.post("/v1/events", json=events).status_code == 202
    for name in ("E2_SERVER", "E2_CLIENT_ID", "E2_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("E2_SERVER", live.url)
    monkeypatch.setenv("E2_CLIENT_ID", owner["id"])
    monkeypatch.setenv("E2_SECRET_KEY", owner["key"])
    lo, hi = T0 + 10 * HOUR, T0 + 50 * HOUR
    with UsageMonitoringService() as service:
        for metric, prop in METRICS.items():
            got = service.get_usage_summary(metric, datetime.fromtimestamp(lo / 1000, UTC),
                                            datetime.fromtimestamp(hi / 1000, UTC))  # fmt: skip
            assert (got.metric_type, got.total_value) == (metric, oracle(events, prop, lo, hi))
            text = bytes(service.download_usage_metrics_csv(metric)).decode()
            rows = list(csv.DictReader(io.StringIO(text)))
            assert sum(int(r["metricValue"]) for r in rows) == oracle(events, prop, 0, 2**62)
            assert {r["tenantId"] for r in rows} == {"compat"}
        with pytest.raises(ValidationError, match="GPU_TIME"):
            service.get_usage_summary("GPU_TIME")

    monkeypatch.delenv("E2_CLIENT_ID")
    with pytest.raises(ElevateConfigurationException, match="E2_CLIENT_ID"):
        UsageMonitoringService()
    with pytest.raises(ElevateConfigurationException, match="secret_key") as empty:
        UsageMonitoringService(client_id=owner["id"], secret_key=" ")
    assert owner["key"] not in str(empty.value)
    with pytest.raises(ElevateConfigurationException, match="server"):
        UsageMonitoringService(server="not a host", client_id="x")
    with pytest.raises(AuthenticationError):
        UsageMonitoringService(client_id=owner["id"], secret_key="uk_wrong_secret_0123456789")
