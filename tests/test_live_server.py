"""Against a real uvicorn server: wire limits, rate limits, docs, and crash durability."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.live import serve


def batch(tag: str, n: int) -> list[dict[str, object]]:
    return [
        {
            "id": f"{tag}-{i}",
            "type": "job",
            "subject": "alice",
            "time": 1793577600000 + i,
            "data": {"cpu": i},
        }
        for i in range(n)
    ]


@pytest.mark.slow
def test_wire_limits_docs_and_rate_limit(db_url: str, tmp_path: Path) -> None:
    with (
        serve(db_url, tmp_path, "--rate-limit", "5", "--body-limit", "20000") as live,
        live.client() as c,
    ):
        assert c.get("/openapi.json").json()["openapi"].startswith("3.1")
        assert "swagger" in c.get("/docs").text.lower()
        big = c.post("/v1/events", json=batch("big", 400))
        assert big.status_code == 413
        assert big.json()["error"]["code"] == "payload_too_large"
        codes = [c.get("/v1/meters").status_code for _ in range(30)]
        assert 429 in codes
        limited = c.get("/v1/meters")
        while limited.status_code != 429:
            limited = c.get("/v1/meters")
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.json()["error"]["code"] == "rate_limited"
        time.sleep(1.1)
        assert c.get("/v1/meters").status_code == 200


@pytest.mark.slow
def test_every_acknowledged_batch_survives_sigkill_exactly_once(
    db_url: str, tmp_path: Path
) -> None:
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def sender(worker: int, url: str) -> None:
        with httpx.Client(
            base_url=url,
            headers={"Authorization": "Bearer uk_test_admin_key_0123456789"},
            timeout=10,
        ) as c:
            for n in range(10_000):
                if stop.is_set():
                    return
                tag = f"w{worker}-b{n}"
                try:
                    reply = c.post("/v1/events", json=batch(tag, 200))
                except httpx.TransportError:
                    return
                if reply.status_code == 202:
                    assert reply.json()["accepted"] == 200
                    with lock:
                        acknowledged.append(tag)

    with serve(db_url, tmp_path) as live:
        threads = [threading.Thread(target=sender, args=(w, live.url)) for w in range(4)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while len(acknowledged) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        live.kill()
        stop.set()
        for t in threads:
            t.join(30)
        port = int(live.url.rsplit(":", 1)[1])
    assert len(acknowledged) >= 20
    with serve(db_url, tmp_path, port=port) as live, live.client() as c:
        rows = list(csv.DictReader(io.StringIO(c.get("/v1/events/export").text)))
    ids = Counter(r["id"] for r in rows)
    assert max(ids.values()) == 1
    per_batch = Counter(i.rsplit("-", 1)[0] for i in ids)
    for tag in acknowledged:
        assert per_batch[tag] == 200, tag
    # Batches cut off by the crash are all-or-nothing.
    assert set(per_batch.values()) == {200}


def test_bootstrap_prints_a_new_key_once(db_url: str, tmp_path: Path) -> None:
    import subprocess

    from tests.live import USAGEKIT, free_port

    port = free_port()
    log = tmp_path / "first.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [USAGEKIT, "serve", "--db", db_url, "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin"},
        )
    try:
        deadline = time.monotonic() + 30
        while "export USAGEKIT_API_KEY=" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        line = next(
            x for x in log.read_text().splitlines() if x.startswith("    export USAGEKIT_API_KEY=")
        )
        key = line.split("=", 1)[1]
        while time.monotonic() < deadline:
            try:
                reply = httpx.get(
                    f"http://127.0.0.1:{port}/v1/meters", headers={"Authorization": f"Bearer {key}"}
                )
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert reply.status_code == 200
    finally:
        proc.terminate()
        proc.wait(15)


def writer_pid(server_pid: int) -> int:
    """The writer child of a server: a spawned process that is not the resource tracker."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if (
            ppid == server_pid
            and "multiprocessing" in cmdline
            and "resource_tracker" not in cmdline
        ):
            return int(entry.name)
    raise AssertionError("no writer process found")


@pytest.mark.slow
def test_server_recovers_when_the_writer_process_dies(db_url: str, tmp_path: Path) -> None:
    import os
    import signal

    with serve(db_url, tmp_path) as live, live.client() as c:
        assert c.post("/v1/events", json=batch("before", 50)).status_code == 202
        os.kill(writer_pid(live.process.pid), signal.SIGKILL)
        time.sleep(0.5)
        codes = [c.post("/v1/events", json=batch(f"after{i}", 50)).status_code for i in range(3)]
        assert codes[-1] == 202
        assert set(codes) <= {202, 503}
        ids = {r["id"] for r in csv.DictReader(io.StringIO(c.get("/v1/events/export").text))}
    assert {f"before-{i}" for i in range(50)} <= ids
    assert {f"after2-{i}" for i in range(50)} <= ids
