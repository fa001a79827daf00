"""Shared by the benchmarks: realistic event data, the baseline table, and result files."""

from __future__ import annotations

import bisect
import json
import os
import platform
import random
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
DOC = ROOT.parent / "docs" / "benchmarks.md"
START_MS = 1788220800000  # 2026-09-01T00:00:00Z
DAY_MS = 86_400_000


def zipf_subjects(n_subjects: int, seed: int) -> tuple[list[int], list[float]]:
    """Subjects in random order with cumulative Zipf weights (s = 1.1): few heavy, long tail."""
    rng = random.Random(seed)
    weights = [1 / (k**1.1) for k in range(1, n_subjects + 1)]
    order = list(range(n_subjects))
    rng.shuffle(order)
    cum, total = [], 0.0
    for w in weights:
        total += w
        cum.append(total)
    return order, cum


def events(
    n: int,
    *,
    days: int = 90,
    subjects: int = 100_000,
    projects: int = 20,
    seed: int = 7,
    prefix: str = "e",
    offset: int = 0,
    total: int | None = None,
    start: int = START_MS,
) -> Iterator[dict[str, Any]]:
    """Events offset..offset+n of a `total`-event feed in time order over `days` from
    `start`."""
    rng = random.Random(seed * 1_000_003 + offset)
    order, cum = zipf_subjects(subjects, seed)
    weight = cum[-1]
    step = days * DAY_MS / (total or n)
    for i in range(offset, offset + n):
        subject = order[bisect.bisect_left(cum, rng.random() * weight)]
        yield {
            "id": f"{prefix}{i}",
            "source": "bench",
            "type": "job",
            "subject": f"user-{subject}",
            "time": start + int(i * step),
            "data": {
                "cpu_ms": rng.randrange(1, 3_600_000),
                "project": f"proj-{subject % projects}",
                "bytes": rng.randrange(0, 10**9),
            },
        }


def batches(n: int, size: int, **kw: Any) -> list[bytes]:
    """Pre-serialised JSON bodies of `size` events each."""
    out, current = [], []
    for e in events(n, **kw):
        current.append(e)
        if len(current) == size:
            out.append(orjson.dumps(current))
            current = []
    if current:
        out.append(orjson.dumps(current))
    return out


def baseline_schema(backend: str = "sqlite") -> list[str]:
    """usagekit's own events table and indexes, as DDL for `backend` (sqlite or postgresql)."""
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.schema import CreateIndex, CreateTable

    from usagekit.store.schema import events as table

    dialect = (sqlite if backend == "sqlite" else postgresql).dialect()  # type: ignore[no-untyped-call]
    ddl = [str(CreateTable(table).compile(dialect=dialect))]
    ddl += [str(CreateIndex(ix).compile(dialect=dialect)) for ix in table.indexes]
    return ddl


BASELINE_INSERT = (
    "INSERT INTO events (tenant_id, source, event_id, type, subject, time_ms, hour, data,"
    " received_ms) VALUES ({marks})"
)


def baseline_rows(bodies: list[bytes]) -> list[list[tuple[Any, ...]]]:
    """Per body, the events table rows usagekit would store (less seq, which the table makes)."""
    return [
        [
            (
                1,
                e["source"],
                e["id"],
                e["type"],
                e["subject"],
                e["time"],
                e["time"] // 3_600_000,
                orjson.dumps(e["data"], option=orjson.OPT_SORT_KEYS).decode(),
                0,
            )
            for e in orjson.loads(body)
        ]
        for body in bodies
    ]


def baseline_executemany(path: Path, bodies: list[bytes], per_txn: int, synchronous: str) -> float:
    """Rows/s of a bare executemany of the same rows into a table with usagekit's indexes."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(f"PRAGMA synchronous={synchronous}")
    for stmt in baseline_schema():
        con.execute(stmt)
    rows_per_body = baseline_rows(bodies)
    n = sum(len(r) for r in rows_per_body)
    started = time.perf_counter()
    for k in range(0, len(rows_per_body), per_txn):
        con.execute("BEGIN")
        for rows in rows_per_body[k : k + per_txn]:
            con.executemany(BASELINE_INSERT.format(marks=",".join("?" * 9)), rows)
        con.execute("COMMIT")
    elapsed = time.perf_counter() - started
    con.close()
    return n / elapsed


def timed(c: httpx.Client, path: str, params: dict[str, Any], n: int) -> list[float]:
    """Milliseconds of `n` GETs of one query, one after another."""
    out = []
    for _ in range(n):
        started = time.perf_counter()
        reply = c.get(path, params=params)
        out.append((time.perf_counter() - started) * 1000)
        reply.raise_for_status()
    return out


PG_SERVER = os.environ.get("USAGEKIT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def pg_database(server: str = PG_SERVER) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server of `server` (a URL), dropped at the end."""
    import psycopg

    name = f"usagekit_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    base, _, query = server.partition("?")
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def pg_analyze(url: str) -> None:
    """ANALYZE the database, as autovacuum would soon after a bulk load (it is off on the
    shared test server this runs on; production keeps it on)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def pg_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {str(row[0]).split()[0] if row else '?'}"


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def save(
    name: str,
    result: dict[str, Any],
    table: list[tuple[str, str, str]],
    database: str | None = None,
) -> None:
    """Write results/<name>.json and the benchmark's section of docs/benchmarks.md."""
    RESULTS.mkdir(exist_ok=True)
    result = {**result, "machine": machine()}
    if database:
        result["machine"]["database"] = database
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    lines = [
        begin,
        f"_{result['machine']['when']}, {result['machine']['cpus']} cores, "
        f"{database or 'SQLite ' + result['machine']['sqlite']}_",
        "",
        "| measure | result | target |",
        "|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in table]
    lines.append(end)
    section = "\n".join(lines)
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if begin in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + f"\n\n## {name}\n\n" + section + "\n"
    DOC.write_text(text)
