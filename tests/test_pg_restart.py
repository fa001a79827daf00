"""A private PostgreSQL cluster stopped and restarted under a live server while the SDK
sends: 503 with Retry-After meanwhile, `send` never raises, nothing lost or doubled."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from tests.conftest import ADMIN_KEY
from tests.fault_kit import METER, batch, batch_sum, meter_total, per_batch, private_postgres
from tests.live import serve
from tests.test_live_server import writer_pid
from usagekit import Client


@pytest.mark.slow
def test_send_survives_a_database_restart_with_nothing_lost_or_doubled(tmp_path: Path) -> None:
    sent: list[str] = []
    raised: list[BaseException] = []
    stop = threading.Event()

    def sender(worker: int, url: str) -> None:
        with Client(url, ADMIN_KEY, timeout=30) as sdk:
            for n in range(100_000):
                if stop.is_set():
                    return
                tag = f"w{worker}-b{n}"
                try:
                    result = sdk.send(batch(tag, 100))
                except BaseException as exc:
                    raised.append(exc)
                    return
                assert result.accepted + result.duplicates == 100
                sent.append(tag)

    with private_postgres() as pg, serve(pg.url, tmp_path) as live, live.client() as c:
        assert c.post("/v1/meters", json=METER).status_code == 201
        threads = [threading.Thread(target=sender, args=(w, live.url)) for w in range(3)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(sent) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        pg.stop()
        # While it is down: faults, answered with Retry-After on a connection kept open.
        time.sleep(2.5)  # past the key cache, so reads need the database too
        down_ingest = c.post("/v1/events", json=batch("probe", 1))
        down_read = c.get("/v1/meters")
        before = len(sent)
        time.sleep(1)
        pg.start()
        deadline = time.monotonic() + 30
        while len(sent) < before + 30 and time.monotonic() < deadline and not raised:
            time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join(60)
        served_total = meter_total(c)
        log = live.log.read_text()
        with psycopg.connect(pg.url) as conn:
            rows = conn.execute("SELECT event_id FROM events").fetchall()
            counted = conn.execute("SELECT count(*) FROM events").fetchone()
    assert not raised, raised
    for reply in (down_ingest, down_read):
        assert reply.status_code == 503, reply.text
        assert reply.json()["error"]["code"] == "database_unavailable"
        assert "database is unavailable" in reply.json()["error"]["message"]
        assert int(reply.headers["Retry-After"]) >= 1
        assert reply.headers.get("connection", "").lower() != "close"
    assert len(sent) >= before + 30  # sending went on after the restart
    assert "Traceback" not in log
    assert 1 <= log.count("database_unavailable") <= 10, log  # a line per fault, not per request
    ids = [r[0] for r in rows]
    assert counted is not None and counted[0] == len(ids)
    stored = per_batch(Counter(ids))  # ids unique, else it raises
    sent_set = set(sent)
    assert sent_set <= {t for t in stored if t != "probe"}
    # Batches in flight when a sender stopped were retried to an answer or not sent at all.
    assert set(stored.values()) <= {100, 1}
    expected = sum(batch_sum(t, 100) for t in stored if t != "probe")
    assert served_total == expected + (batch_sum("probe", 1) if "probe" in stored else 0)
    assert {t for t in stored if t != "probe"} == sent_set


@pytest.mark.slow
def test_a_writer_killed_while_the_database_is_down_comes_back_with_it(tmp_path: Path) -> None:
    with private_postgres() as pg, serve(pg.url, tmp_path) as live, live.client() as c:
        assert c.post("/v1/events", json=batch("before", 10)).status_code == 202
        pg.stop()
        os.kill(writer_pid(live.process.pid), signal.SIGKILL)
        replies = []
        until = time.monotonic() + 3
        while time.monotonic() < until:
            replies.append(c.post("/v1/events", json=batch("down", 10)))
        pg.start()
        until = time.monotonic() + 20
        while c.post("/v1/events", json=batch("after", 10)).status_code != 202:
            assert time.monotonic() < until, "ingest did not come back"
            time.sleep(0.2)
        log = live.log.read_text()
        with psycopg.connect(pg.url) as conn:
            ids = [r[0] for r in conn.execute("SELECT event_id FROM events").fetchall()]
    assert len(replies) > 20
    assert {r.status_code for r in replies} == {503}
    assert all(int(r.headers["Retry-After"]) >= 1 for r in replies)
    assert "Traceback" not in log
    assert log.count("starting a new one") == 1, log
    assert log.count("database_unavailable") <= 10, log  # a line per fault, not per request
    assert per_batch(Counter(ids)) == {"before": 10, "after": 10}
