"""Faults of the parts (full storage, a database away) are classified once, answered with
503/507 and Retry-After, and logged as one line; on real SQLite, PostgreSQL and tmpfs."""

from __future__ import annotations

import logging
import pickle
import sqlite3
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy
from fastapi.testclient import TestClient

from tests.conftest import PG_URL, _pg_available
from tests.fault_kit import METER, batch, batch_sum, meter_total, per_batch, stored_ids
from tests.live import USAGEKIT, free_port, serve
from usagekit.services.faults import (
    DatabaseUnavailable,
    FaultLog,
    StorageFull,
    Unavailable,
    WriterUnavailable,
    classify,
)
from usagekit.services.writer import ProcessWriter


def sqlite_full_error(tmp: Path) -> sqlite3.OperationalError:
    """The error SQLite raises when its file may not grow (max_page_count as the limit)."""
    conn = sqlite3.connect(tmp / "small.db")
    try:
        conn.execute("CREATE TABLE t (x BLOB)")
        conn.execute("PRAGMA max_page_count = 8")
        with pytest.raises(sqlite3.OperationalError) as full:
            conn.execute("INSERT INTO t VALUES (zeroblob(65536))")
        return full.value
    finally:
        conn.close()


def test_sqlite_full_is_storage_full_and_crosses_processes(tmp_path: Path) -> None:
    fault = classify(sqlite_full_error(tmp_path))
    assert isinstance(fault, StorageFull)
    assert "full" in fault.message and fault.retry_after > 0
    copy = pickle.loads(pickle.dumps(fault))  # the writer process sends it over a pipe
    assert type(copy) is StorageFull
    assert (copy.message, copy.retry_after, copy.code) == (
        fault.message,
        fault.retry_after,
        "storage_full",
    )


def test_wrapped_errors_are_classified_by_their_cause(tmp_path: Path) -> None:
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x BLOB)")
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA max_page_count = 4")
        with pytest.raises(sqlalchemy.exc.OperationalError) as wrapped:
            conn.exec_driver_sql("INSERT INTO t VALUES (zeroblob(65536))")
    engine.dispose()
    fault = classify(wrapped.value)
    assert isinstance(fault, StorageFull)
    assert "INSERT" not in fault.message  # the cause's own words, never SQL


def test_postgresql_away_is_database_unavailable() -> None:
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{free_port()}/x", connect_timeout=2)
    assert isinstance(classify(refused.value), DatabaseUnavailable)
    engine = sqlalchemy.create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x")
    with pytest.raises(sqlalchemy.exc.OperationalError) as wrapped:
        engine.connect()
    engine.dispose()
    fault = classify(wrapped.value)
    assert isinstance(fault, DatabaseUnavailable) and fault.code == "database_unavailable"


def test_a_terminated_session_is_database_unavailable() -> None:
    if not _pg_available():
        pytest.skip("PostgreSQL is not reachable")
    with psycopg.connect(PG_URL, autocommit=True) as victim:
        pid = victim.info.backend_pid
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        with pytest.raises(psycopg.OperationalError) as shut:
            victim.execute("SELECT 1")
    assert isinstance(classify(shut.value), DatabaseUnavailable)


def test_errors_of_input_or_code_are_not_faults(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db")
    conn.execute("CREATE TABLE t (x PRIMARY KEY)")
    conn.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError) as dup:
        conn.execute("INSERT INTO t VALUES (1)")
    conn.close()
    assert classify(dup.value) is None
    assert classify(ValueError("bad")) is None
    assert classify(KeyError("x")) is None
    writer = WriterUnavailable("restarting")
    assert classify(writer) is writer and isinstance(writer, Unavailable)


def test_a_repeated_fault_is_logged_once_per_interval(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = FaultLog(logging.getLogger("test.faults"), interval=3600)
    fault = classify(sqlite_full_error(tmp_path))
    assert fault is not None
    with caplog.at_level(logging.WARNING, "test.faults"):
        logged = [log.report(fault) for _ in range(500)]
        other = DatabaseUnavailable("the database is unavailable (x)")
        log.report(other)
        log.interval = 0
        log.report(fault)
    assert logged.count(True) == 1
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3, lines
    assert lines[0].startswith("storage_full: storage is full")
    assert "database_unavailable" in lines[1]
    assert "(499 more since the last report)" in lines[2]
    assert all(r.exc_info is None for r in caplog.records)  # a line, not a traceback


def test_writer_faults_answer_503_with_retry_after(client: TestClient) -> None:
    context = client.app.state.ctx  # type: ignore[attr-defined]
    context.writer.max_queue = 0  # a full writer queue: every write is refused at once
    full = client.post("/v1/meters", json=METER)
    assert full.status_code == 503 and int(full.headers["Retry-After"]) >= 1
    assert full.json()["error"]["code"] == "overloaded"
    running = context.writer
    context.writer = ProcessWriter(context.settings.db, "FULL")  # one that is not running
    try:
        down = client.post("/v1/events", json=batch("x", 3))
    finally:
        context.writer = running
        running.max_queue = 64
    assert down.status_code == 503 and int(down.headers["Retry-After"]) >= 1
    assert down.json()["error"] == {
        "code": "unavailable",
        "message": "the writer process is not running (being restarted)",
        "param": None,
    }
    assert client.post("/v1/events", json=batch("x", 3)).json()["accepted"] == 3


@pytest.fixture
def small_tmpfs() -> Iterator[Path]:
    """An 8 MiB tmpfs of our own (needs root and a kernel that lets us mount)."""
    where = Path(tempfile.mkdtemp(prefix="usagekit-full-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(where)], capture_output=True
    )
    if mounted.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        where.rmdir()


def fill(path: Path, leave: int) -> None:
    """Fill the file system holding `path` with `path` until `leave` bytes are free."""
    import os

    stat = os.statvfs(path.parent)
    free = stat.f_bavail * stat.f_frsize
    with path.open("wb") as out:
        out.write(b"\0" * max(0, free - leave))


@pytest.mark.slow
def test_full_storage_answers_507_then_recovers_with_exact_totals(
    small_tmpfs: Path, tmp_path: Path
) -> None:
    db = str(small_tmpfs / "usagekit.db")
    filler = small_tmpfs / "filler"
    acked: list[str] = []
    refused: list[str] = []
    with serve(db, tmp_path) as live, live.client() as c:
        assert c.post("/v1/meters", json=METER).status_code == 201
        fill(filler, leave=1_500_000)
        reply = None
        for n in range(200):
            tag = f"f{n}"
            reply = c.post("/v1/events", json=batch(tag, 200))
            if reply.status_code == 202:
                assert reply.json()["accepted"] == 200
                acked.append(tag)
                continue
            assert reply.status_code == 507, reply.text
            refused.append(tag)
            if len(refused) == 30:
                break
        assert reply is not None and reply.status_code == 507
        assert len(refused) == 30 and acked  # it took some before it filled
        error = reply.json()["error"]
        assert error["code"] == "storage_full" and "full" in error["message"]
        assert int(reply.headers["Retry-After"]) >= 1
        assert reply.headers.get("connection", "").lower() != "close"
        assert c.get("/v1/meters").status_code == 200  # reads still answer
        filler.unlink()
        after = [f"g{n}" for n in range(5)]
        for tag in after:
            assert c.post("/v1/events", json=batch(tag, 200)).status_code == 202
        acked += after
        served_total = meter_total(c)
        log = live.log.read_text()
    assert "Traceback" not in log
    # One line per distinct fault (server and writer each), not one per refused request.
    assert 1 <= log.count("storage_full") <= 6, log
    stored = per_batch(stored_ids(db))
    assert {t for t, n in stored.items() if n} == set(acked)
    assert set(stored.values()) == {200}  # nothing stored half
    expected = sum(batch_sum(t, 200) for t in acked)
    assert served_total == expected
    rebuilt = subprocess.run(
        [USAGEKIT, "rebuild", "--db", db], capture_output=True, text=True, check=True
    )
    assert "rebuilt" in rebuilt.stdout + rebuilt.stderr
    with serve(db, tmp_path) as live, live.client() as c:
        assert meter_total(c) == expected


@pytest.mark.slow
def test_concurrent_senders_on_a_filling_disk_count_each_acknowledged_event_once(
    small_tmpfs: Path, tmp_path: Path
) -> None:
    """Eight senders share group commits while the disk fills: commits fail part-way and
    are retried body by body, and the totals still equal the acknowledged events."""
    db = str(small_tmpfs / "usagekit.db")
    filler = small_tmpfs / "filler"
    acked: list[str] = []
    lock = threading.Lock()

    def sender(live: Any, who: int) -> None:
        refused = 0
        with live.client() as c:
            for n in range(400):
                tag = f"s{who}x{n}"
                reply = c.post("/v1/events", json=batch(tag, 100))
                if reply.status_code == 202:
                    with lock:
                        acked.append(tag)
                    continue
                assert reply.status_code in (503, 507), reply.text
                refused += 1
                if refused == 10:
                    return

    with serve(db, tmp_path) as live, live.client() as c:
        assert c.post("/v1/meters", json=METER).status_code == 201
        fill(filler, leave=1_500_000)
        threads = [threading.Thread(target=sender, args=(live, i)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        filler.unlink()
        served_total = meter_total(c)
    stored = per_batch(stored_ids(db))
    assert {t for t, n in stored.items() if n} == set(acked)
    assert set(stored.values()) <= {0, 100}
    expected = sum(batch_sum(t, 100) for t in acked)
    assert served_total == expected
    subprocess.run([USAGEKIT, "rebuild", "--db", db], capture_output=True, check=True)
    with serve(db, tmp_path) as live, live.client() as c:
        assert meter_total(c) == expected
