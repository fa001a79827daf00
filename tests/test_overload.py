"""Admission control under 4x overload from a second process: every request answered
within seconds, the surplus refused with 503 and Retry-After, queries still answered,
and every acknowledged event stored exactly once."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from tests.fault_kit import METER, SPAN, per_batch, stored_ids
from tests.live import serve
from tests.test_metrics import scrape, value
from usagekit.server.admission import Admission
from usagekit.services.faults import Overloaded

ROOT = Path(__file__).resolve().parent.parent


def test_admission_bounds_requests_and_bytes() -> None:
    gate = Admission(max_requests=2, max_bytes=1000)
    with gate.admit(900):
        with pytest.raises(Overloaded, match="1000 bytes"):
            gate.admit(200).__enter__()
        with gate.admit(100):
            with pytest.raises(Overloaded, match="2 ingest requests") as full:
                gate.admit(1).__enter__()
            assert full.value.retry_after >= 1
    assert (gate.requests, gate.bytes) == (0, 0)
    with gate.admit(5000):  # a lone request always gets in: the body limit bounds it
        assert gate.bytes == 5000


@pytest.mark.slow
def test_overload_is_refused_at_once_and_nothing_acknowledged_is_lost(
    db_url: str, tmp_path: Path
) -> None:
    limit, conns, rounds, size = 8, 32, 3, 400  # 4x the limit, sending at once
    out = tmp_path / "results.json"
    with serve(db_url, tmp_path, "--max-inflight", str(limit)) as live, live.client() as c:
        assert c.post("/v1/meters", json=METER).status_code == 201
        args = (conns, rounds, size)
        load = subprocess.Popen(
            [sys.executable, "-m", "tests.overload_client", live.url, *map(str, args), out],
            cwd=ROOT,
        )
        query_seconds = []
        while load.poll() is None:
            started = time.perf_counter()
            assert c.get("/v1/usage/summary", params=SPAN).status_code == 200
            query_seconds.append(time.perf_counter() - started)
            time.sleep(0.05)
        assert load.returncode == 0
        log = live.log.read_text()
        counted = scrape(live.url)
    results = orjson.loads(out.read_bytes())
    assert len(results) == conns * rounds
    assert all(r["status"] in (202, 503) for r in results), results  # answered, no 5xx else
    assert max(r["seconds"] for r in results) < 10  # answered at all, within a bound
    refused = [r for r in results if r["status"] == 503]
    assert refused, "no request was refused at 4x the limit"
    assert all(r["code"] == "overloaded" and int(r["retry_after"]) >= 1 for r in refused)
    assert query_seconds and max(query_seconds) < 10
    assert "Traceback" not in log
    stored = per_batch(stored_ids(db_url))
    acked = {r["tag"] for r in results if r["status"] == 202}
    assert all(r["accepted"] == size for r in results if r["status"] == 202)
    assert {t for t, n in stored.items() if n} == acked
    assert set(stored.values()) == {size}
    # /metrics counted each refusal and each stored event, once.
    assert value(counted, "usagekit_admission_rejections_total", limit="requests") == len(refused)
    assert value(counted, "usagekit_faults_total", fault="overloaded") == len(refused)
    assert value(counted, "usagekit_events_total", outcome="accepted") == size * len(acked)
