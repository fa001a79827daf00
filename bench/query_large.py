"""Queries over a large store (default 10M events: 100k subjects, 20 projects, 90 days).

Loads the events through a real `usagekit serve` while sampling its RSS, then times:
a 30-day daily series grouped by project (p50/p95 over repeated requests), a
365-day daily rolling_30d unique count of subjects (midnight bounds, and again
with `to` mid-day as dashboards ask "up to now"), and the CSV export of every
event. DuckDB scanning the same raw events, in the same run, is the comparison.
With --db postgresql://... the server runs with --workers 2 on a database made
for the run on that PostgreSQL server and dropped after (its RSS is usagekit's
processes, not PostgreSQL's). Run: python -m bench.query_large [--events N] [--db URL]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from tests.live import serve

from bench.common import (
    DAY_MS,
    START_MS,
    batches,
    events,
    pg_analyze,
    pg_database,
    pg_version,
    save,
    timed,
)
from bench.ingest_http import CPU_METER, UNIQUE_METER, send_all

CHUNK = 1_000_000  # events generated (and sent) per round, to bound the bench's own memory
METERS = [CPU_METER, UNIQUE_METER]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (the writer process included)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(1.0):
            self.peak = max(self.peak, rss_mb(self.pid))


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


def duckdb_baseline(
    n: int, tmp: Path, series: dict[str, Any], rolling: dict[str, Any]
) -> dict[str, float]:
    """The same two questions, answered by DuckDB scanning the raw events."""
    path = tmp / "raw.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["subject", "time_ms", "project", "cpu_ms"])
        for chunk in range(0, n, CHUNK):
            for e in events(min(CHUNK, n - chunk), offset=chunk, total=n):
                w.writerow([e["subject"], e["time"], e["data"]["project"], e["data"]["cpu_ms"]])
    con = duckdb.connect()
    con.execute(f"CREATE TABLE ev AS SELECT * FROM read_csv_auto('{path}')")
    lo, hi = series["from_ms"], series["to_ms"]
    q1 = (
        "SELECT (time_ms - ?) // 86400000 AS day, project, sum(cpu_ms) FROM ev "
        "WHERE time_ms >= ? AND time_ms < ? GROUP BY 1, 2"
    )
    times = []
    for _ in range(20):
        started = time.perf_counter()
        con.execute(q1, [lo, lo, hi]).fetchall()
        times.append((time.perf_counter() - started) * 1000)
    r_lo, r_hi = rolling["from_ms"], rolling["to_ms"]
    q2 = (
        "WITH days AS (SELECT range AS d FROM range(?, ?, 86400000)) "
        "SELECT d, count(DISTINCT subject) FROM days JOIN ev "
        "ON ev.time_ms >= d - 2505600000 AND ev.time_ms < d + 86400000 GROUP BY d"
    )
    started = time.perf_counter()
    con.execute(q2, [r_lo, r_hi]).fetchall()
    rolling_ms = (time.perf_counter() - started) * 1000
    return {"series_p95_ms": statistics.quantiles(times, n=20)[18], "rolling_ms": rolling_ms}


@contextmanager
def database(db: str, tmp: Path) -> Iterator[tuple[str, list[str]]]:
    """The database to serve and the serve options: a SQLite file, or a fresh PostgreSQL one."""
    if db == "sqlite":
        yield str(tmp / "u.db"), []
        return
    with pg_database(db) as url:
        yield url, ["--workers", "2"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--db", default="sqlite", help="sqlite, or a postgresql:// server URL")
    args = parser.parse_args()
    n = args.events
    pg = args.db != "sqlite"
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        with (
            database(args.db, tmp) as (db, options),
            serve(db, tmp, *options) as live,
            live.client(timeout=600) as c,
        ):
            version = pg_version(db) if pg else None
            for meter in METERS:
                c.post("/v1/meters", json=meter).raise_for_status()
            sampler = RssSampler(live.process.pid)
            sampler.start()
            load_s = 0.0
            for chunk in range(0, n, CHUNK):
                bodies = batches(min(CHUNK, n - chunk), 1000, offset=chunk, total=n)
                seconds, _, _ = send_all(live.url, bodies, 4)
                load_s += seconds
                print(f"loaded {chunk + len(bodies) * 1000:,} ({load_s:.0f} s)", flush=True)
            load_rss = sampler.peak
            if pg:
                pg_analyze(db)
            end = START_MS + 90 * DAY_MS
            series = {
                "from": iso(end - 30 * DAY_MS),
                "to": iso(end),
                "granularity": "day",
                "group_by": "project",
            }
            series_ms = timed(c, "/v1/meters/cpu_time/query", series, args.repeat)
            rolling = {
                "from": iso(end - 365 * DAY_MS),
                "to": iso(end),
                "granularity": "day",
                "aggregation_type": "rolling_30d",
            }
            rolling_ms = timed(c, "/v1/meters/active_users/query", rolling, 3)
            now = end - 7 * 3_600_000
            midday = {**rolling, "from": iso(now - 365 * DAY_MS), "to": iso(now)}
            midday_ms = timed(c, "/v1/meters/active_users/query", midday, 3)
            started = time.perf_counter()
            rows = 0
            with c.stream("GET", "/v1/events/export") as reply:
                for chunk in reply.iter_raw():  # count lines only: the server is measured
                    rows += chunk.count(b"\n")
            export_s = time.perf_counter() - started
            sampler.stop.set()
            peak_rss = sampler.peak
        duck = duckdb_baseline(
            n,
            tmp,
            {"from_ms": end - 30 * DAY_MS, "to_ms": end},
            {"from_ms": end - 365 * DAY_MS, "to_ms": end},
        )
    p95 = statistics.quantiles(series_ms, n=20)[18]
    result = {
        "events": n,
        "load_events_per_s": round(n / load_s),
        "rss_peak_load_mb": round(load_rss),
        "rss_peak_mb": round(peak_rss),
        "series_p50_ms": round(statistics.median(series_ms), 2),
        "series_p95_ms": round(p95, 2),
        "rolling_unique_ms": round(statistics.median(rolling_ms)),
        "rolling_unique_midday_ms": round(statistics.median(midday_ms)),
        "export_rows_per_s": round((rows - 1) / export_s),
        "duckdb_series_p95_ms": round(duck["series_p95_ms"], 2),
        "duckdb_rolling_unique_ms": round(duck["rolling_ms"]),
    }
    print(result)
    save(
        f"query_{n // 1_000_000}m" + ("_pg" if pg else ""),
        result,
        [
            (
                f"load {n:,} events over HTTP (sum + unique meters)"
                + (", 2 API processes" if pg else ""),
                f"{result['load_events_per_s']:,}/s",
                "",
            ),
            (
                "server RSS peak (load, queries, export)"
                + (": 2 API processes, their writers and the supervisor" if pg else ""),
                f"{peak_rss:,.0f} MB",
                "< 600 MB (300 per API process)" if pg else "< 300 MB",
            ),
            (
                "30-day daily series by project, p50 / p95",
                f"{result['series_p50_ms']} / {p95:.1f} ms",
                "p95 < 50 ms" if pg else "p95 < 20 ms",
            ),
            (
                "same, DuckDB scanning raw events, p95 (ours / DuckDB)",
                f"{duck['series_p95_ms']:.1f} ms ({p95 / duck['series_p95_ms']:.2f}x)",
                "",
            ),
            (
                "365-day daily rolling_30d unique subjects",
                f"{result['rolling_unique_ms']:,} ms",
                "< 1,000 ms",
            ),
            (
                "same, `to` mid-day (end - 7 h) and `from` 365 days before it "
                "(mid-day / midnight bounds)",
                f"{result['rolling_unique_midday_ms']:,} ms "
                f"({statistics.median(midday_ms) / statistics.median(rolling_ms):.2f}x)",
                "",
            ),
            (
                "midnight bounds, DuckDB (ours / DuckDB)",
                f"{duck['rolling_ms']:,.0f} ms "
                f"({result['rolling_unique_ms'] / duck['rolling_ms']:.2f}x)",
                "",
            ),
            (
                "CSV export of every event",
                f"{result['export_rows_per_s']:,} rows/s",
                ">= 200,000 rows/s",
            ),
        ],
        database=version,
    )


if __name__ == "__main__":
    main()
