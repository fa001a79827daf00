"""Ctrl-C and SIGTERM, to the server or its whole process group, while ingesting: the
server drains, stops its writer once, prints no traceback and exits 0; every
acknowledged batch is stored exactly once."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_KEY
from tests.fault_kit import batch, per_batch, stored_ids
from tests.live import serve
from tests.marks import first_fast

CASES = [
    (signal.SIGINT, False, 1),
    (signal.SIGTERM, True, 1),
    (signal.SIGINT, True, 1),  # Ctrl-C in a terminal
    (signal.SIGINT, True, 2),  # Ctrl-C, with worker processes (each with a writer)
    (signal.SIGTERM, True, 2),
]


@pytest.mark.parametrize(("sig", "to_group", "workers"), first_fast(CASES))
def test_a_signal_while_ingesting_drains_and_exits_cleanly(
    db_url: str, tmp_path: Path, sig: signal.Signals, to_group: bool, workers: int
) -> None:
    acked: list[str] = []
    unanswered: list[str] = []
    stop = threading.Event()

    def sender(worker: int, url: str) -> None:
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as c:
            for n in range(100_000):
                if stop.is_set():
                    return
                tag = f"w{worker}-b{n}"
                try:
                    reply = c.post("/v1/events", json=batch(tag, 300))
                except httpx.TransportError:
                    unanswered.append(tag)  # sent or not: either way all or nothing
                    return
                assert reply.status_code == 202, reply.text
                assert reply.json()["accepted"] == 300
                acked.append(tag)

    args = ("--workers", str(workers), "--log-level", "info")
    with serve(db_url, tmp_path, *args, new_session=True) as live:
        threads = [threading.Thread(target=sender, args=(w, live.url)) for w in range(4)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(acked) < 12 and time.monotonic() < deadline:
            time.sleep(0.02)
        if to_group:
            os.killpg(live.process.pid, sig)
        else:
            live.process.send_signal(sig)
        code = live.process.wait(30)
        stop.set()
        for t in threads:
            t.join(30)
        log = live.log.read_text()
    assert code == 0, log
    assert "Traceback" not in log and "Error" not in log, log
    assert "starting a new one" not in log  # the writer was not respawned during shutdown
    assert len(acked) >= 12
    stored = per_batch(stored_ids(db_url))  # raises if any id is stored twice
    assert all(stored[tag] == 300 for tag in acked)
    assert set(stored.values()) <= {300}  # batches cut off are all or nothing
    assert set(stored) <= set(acked) | set(unanswered)
