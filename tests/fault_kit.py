"""What the fault tests share: tagged batches, a sum meter, independent counts by plain
SQL, and a private PostgreSQL cluster that a test may stop and start."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.live import free_port

T0 = 1793577600000  # 2026-11-02T00:00:00Z
SPAN = {"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}
METER = {"slug": "cpu", "event_type": "job", "aggregation": "sum", "value_property": "cpu"}


def cpu_of(tag: str, i: int) -> int:
    """Each event's value, distinct per event so a lost or doubled one shows in the sum."""
    return (sum(map(ord, tag)) * 7919 + i * 104729) % 1_000_003 + 1


def batch(tag: str, n: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{tag}-{i}",
            "type": "job",
            "subject": f"s{i % 7}",
            "time": T0 + i,
            "data": {"cpu": cpu_of(tag, i)},
        }
        for i in range(n)
    ]


def batch_sum(tag: str, n: int) -> int:
    return sum(cpu_of(tag, i) for i in range(n))


def meter_total(c: httpx.Client) -> int:
    reply = c.get("/v1/usage/summary", params=SPAN)
    assert reply.status_code == 200, reply.text
    return sum(int(r["value"]) for r in reply.json()["data"] if r["meter"] == "cpu")


def stored_ids(db: str) -> Counter[str]:
    """Every stored event id, counted by plain SQL on the database itself."""
    if db.startswith("postgresql://"):
        url, _, options = db.partition("?")
        schema = options.rsplit("%3D", 1)[1] if options else "public"
        with psycopg.connect(url) as conn:
            rows = conn.execute(f"SELECT event_id FROM {schema}.events").fetchall()
    else:
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT event_id FROM events").fetchall()
        conn.close()
    return Counter(r[0] for r in rows)


def per_batch(ids: Counter[str]) -> Counter[str]:
    """Stored events per batch tag (each id is TAG-INDEX)."""
    assert not ids or max(ids.values()) == 1, "an event id is stored twice"
    return Counter(i.rsplit("-", 1)[0] for i in ids)


PG_BIN = Path("/usr/lib/postgresql/15/bin")
AS_POSTGRES = ("runuser", "-u", "postgres", "--")  # PostgreSQL refuses to run as root


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb in a temporary directory, trust auth)."""

    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def ctl(self, *args: str) -> None:
        subprocess.run(
            [*AS_POSTGRES, str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        self.ctl("-w", "-l", str(self.data / "server.log"), "-o", opts, "start")

    def stop(self) -> None:
        self.ctl("-w", "-m", "fast", "stop")


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """initdb and start a cluster on a free port; skip when PostgreSQL 15 is not installed."""
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
        pytest.skip("needs /usr/lib/postgresql/15/bin and runuser")
    root = Path(tempfile.mkdtemp(prefix="usagekit-pg-"))
    data = root / "data"
    shutil.chown(root, "postgres")
    subprocess.run(
        [*AS_POSTGRES, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "--no-sync"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pg = PrivatePostgres(data, free_port())
    pg.start()
    try:
        yield pg
    finally:
        with suppress(subprocess.CalledProcessError):
            pg.ctl("-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def wait_for(check: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)
