"""`usagekit backup` while a live server ingests from another process, then `usagekit restore`
and a server on the restored database: every meter's totals equal a plain count over the
restored events, and its rollups equal what `usagekit rebuild` makes of them."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import ADMIN_KEY, PG_URL, new_schema, pg_url
from tests.fault_kit import METER, SPAN, batch, batch_sum, per_batch, stored_ids
from tests.live import USAGEKIT, Live, serve

ROOT = Path(__file__).resolve().parents[1]
METERS = [
    METER,  # cpu: sum
    {"slug": "jobs", "event_type": "job", "aggregation": "count"},
    {"slug": "peak", "event_type": "job", "aggregation": "max", "value_property": "cpu"},
]
# The second process: sends 200-event batches until told to stop, noting each one acknowledged.
SENDER = """
import pathlib, sys, httpx
from tests.fault_kit import batch
url, key, acked, stop = sys.argv[1:5]
with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
    n = 0
    while not pathlib.Path(stop).exists():
        reply = c.post("/v1/events", json=batch(f"b{n}", 200))
        assert reply.status_code == 202, reply.text
        with open(acked, "a") as out:
            out.write(f"b{n}\\n")
        n += 1
"""


def usagekit(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([USAGEKIT, *args], capture_output=True, text=True, timeout=120)
    if ok:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def acked_count(path: Path) -> int:
    return len(path.read_text().split()) if path.exists() else 0


def wait_for_acks(path: Path, at_least: int, sender: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while acked_count(path) < at_least:
        assert sender.poll() is None, sender.communicate()
        assert time.monotonic() < deadline, "the sender made no progress"
        time.sleep(0.05)


@contextmanager
def ingesting(live: Live, tmp: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """A second process sending batches to `live` for the length of the block."""
    acked, stop = tmp / "acked.txt", tmp / "stop"
    argv = [sys.executable, "-c", SENDER, live.url, ADMIN_KEY, str(acked), str(stop)]
    sender = subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        yield acked, sender
    finally:
        stop.touch()
        output, _ = sender.communicate(timeout=60)
    assert sender.returncode == 0, output


def backup_while_ingesting(db: str, tmp: Path, snapshot: Path) -> tuple[set[str], set[str]]:
    """Back `db` up while a live server on it takes batches; (acked before, acked in all)."""
    with serve(db, tmp) as live, live.client() as c:
        for meter in METERS:
            assert c.post("/v1/meters", json=meter).status_code == 201
        with ingesting(live, tmp) as (acked, sender):
            wait_for_acks(acked, 10, sender)
            before = set(acked.read_text().split())
            said = usagekit("backup", str(snapshot), "--db", db)
            after = acked_count(acked)
            wait_for_acks(acked, after + 5, sender)  # ingest went on during and after
        log = live.log.read_text()
    assert "Traceback" not in log, log
    assert "backed up" in said.stderr or "dumped" in said.stderr, said.stderr
    return before, set(acked.read_text().split())


def check_snapshot(ids: Counter[str], before: set[str], acked: set[str]) -> None:
    """The snapshot is one committed state: whole batches, every one acked before it began."""
    batches = per_batch(ids)
    assert set(batches.values()) == {200}
    assert before <= set(batches) <= acked
    assert len(batches) < len(acked)  # the live database went on past the snapshot


def independent_totals(db: str) -> dict[str, Any]:
    """Each meter's total over SPAN by plain SQL and Python over the raw events."""
    if db.startswith("postgresql://"):
        url, _, options = db.partition("?")
        schema = options.rsplit("%3D", 1)[1]
        with psycopg.connect(url) as conn:
            rows = conn.execute(
                f"SELECT data FROM {schema}.events WHERE type = 'job' AND voided_ms IS NULL"
            ).fetchall()
    else:
        with sqlite3.connect(db) as conn:
            rows = conn.execute(
                "SELECT data FROM events WHERE type = 'job' AND voided_ms IS NULL"
            ).fetchall()
        conn.close()
    cpu = [json.loads(r[0])["cpu"] for r in rows]
    return {"cpu": sum(cpu), "jobs": len(cpu), "peak": max(cpu)}


def served_totals(live: Live) -> dict[str, Any]:
    with live.client() as c:
        reply = c.get("/v1/usage/summary", params=SPAN)
    assert reply.status_code == 200, reply.text
    return {
        r["meter"]: Decimal(str(r["value"]))
        for r in reply.json()["data"]
        if r["meter"] in ("cpu", "jobs", "peak")
    }


def rollups(db: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        found = conn.execute("SELECT * FROM rollups ORDER BY meter_id, level, bucket, group_id")
        rows = found.fetchall()
    conn.close()
    return rows


@pytest.mark.slow
def test_sqlite_backup_while_ingesting_restores_to_exact_totals(tmp_path: Path) -> None:
    db, snapshot, restored = tmp_path / "live.db", tmp_path / "snap.db", tmp_path / "restored.db"
    before, acked = backup_while_ingesting(str(db), tmp_path, snapshot)
    snapped = stored_ids(str(snapshot))
    check_snapshot(snapped, before, acked)
    assert not Path(f"{snapshot}-wal").exists()  # one self-contained file

    said = usagekit("restore", str(snapshot), "--db", str(restored))
    assert "restored" in said.stderr
    refused = usagekit("restore", str(snapshot), "--db", str(restored), ok=False)
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    usagekit("restore", str(snapshot), "--db", str(restored), "--force")
    assert stored_ids(str(restored)) == snapped

    expected = independent_totals(str(restored))
    assert expected["jobs"] == 200 * len(per_batch(snapped))
    with serve(str(restored), tmp_path) as live:
        assert served_totals(live) == {k: Decimal(v) for k, v in expected.items()}
    kept = rollups(str(restored))
    assert kept
    usagekit("rebuild", "--db", str(restored))
    assert rollups(str(restored)) == kept


def test_backup_refuses_to_overwrite_and_names_the_secret(tmp_path: Path) -> None:
    db, snapshot = tmp_path / "s.db", tmp_path / "snap.db"
    with serve(str(db), tmp_path):
        pass
    first = usagekit("backup", str(snapshot), "--db", str(db))
    assert f"{db}.secret" in first.stderr and "not in the backup" in first.stderr
    assert not Path(f"{snapshot}.secret").exists()
    again = usagekit("backup", str(snapshot), "--db", str(db), ok=False)
    assert again.returncode == 1 and "--force" in again.stderr
    usagekit("backup", str(snapshot), "--db", str(db), "--force", "--with-secret")
    saved = Path(f"{snapshot}.secret")
    assert saved.read_text() == Path(f"{db}.secret").read_text()
    assert saved.stat().st_mode & 0o777 == 0o600
    target = tmp_path / "elsewhere" / "r.db"
    target.parent.mkdir()
    usagekit("restore", str(snapshot), "--db", str(target))
    assert Path(f"{target}.secret").read_text() == saved.read_text()
    missing = usagekit(
        "backup", str(tmp_path / "x.db"), "--db", str(tmp_path / "none.db"), ok=False
    )
    assert missing.returncode == 1 and "no such database" in missing.stderr


@pytest.mark.slow
def test_postgresql_backup_while_ingesting_restores_with_pg_restore(tmp_path: Path) -> None:
    dump = tmp_path / "usagekit.pgdump"
    with new_schema("uk_backup") as schema:
        db = pg_url(schema)
        before, acked = backup_while_ingesting(db, tmp_path, dump)
        # The archive holds one committed state of the schema: restore it into a new database.
        listing = subprocess.run(
            ["pg_restore", "--list", str(dump)], capture_output=True, text=True
        )
        assert f"TABLE DATA {schema} events" in listing.stdout
        guidance = usagekit("restore", str(dump), "--db", db, ok=False)
        assert guidance.returncode == 1 and "pg_restore --no-owner" in guidance.stderr
        database = f"uk_restore_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {database}")
        try:
            base = PG_URL.rsplit("/", 1)[0] + f"/{database}"
            subprocess.run(
                ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", base, str(dump)],
                check=True,
            )
            restored = f"{base}?options=-csearch_path%3D{schema}"
            usagekit("migrate", "--db", restored)
            snapped = stored_ids(restored)
            check_snapshot(snapped, before, acked)
            expected = independent_totals(restored)
            with serve(restored, tmp_path) as live:
                assert served_totals(live) == {k: Decimal(v) for k, v in expected.items()}
        finally:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE {database} WITH (FORCE)")


@pytest.mark.slow
def test_sqlite_snapshot_restores_into_an_empty_postgresql_schema(tmp_path: Path) -> None:
    db, snapshot = tmp_path / "s.db", tmp_path / "snap.db"
    with serve(str(db), tmp_path) as live, live.client() as c:
        assert c.post("/v1/meters", json=METER).status_code == 201
        assert c.post("/v1/events", json=batch("r", 300)).status_code == 202
    usagekit("backup", str(snapshot), "--db", str(db))
    with new_schema("uk_restore") as schema:
        target = pg_url(schema)
        usagekit("restore", str(snapshot), "--db", target)
        assert stored_ids(target) == stored_ids(str(db))
        again = usagekit("restore", str(snapshot), "--db", target, "--force", ok=False)
        assert again.returncode == 1 and "holds data" in again.stderr
        assert "Traceback" not in again.stderr
        with serve(target, tmp_path) as live:
            assert served_totals(live) == {"cpu": Decimal(batch_sum("r", 300))}
