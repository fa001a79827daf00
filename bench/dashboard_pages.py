"""The dashboard's pages over a large store: the API calls each page makes, timed.

Loads N events (default 1M; `--events 10000000` for the issue's 10M) through a
real `usagekit serve`, then times, over repeated rounds, the requests the
overview (meters, summary, ingestion, one 30-day daily series per meter), the
meter page (a 30-day daily series by project and its CSV) and the events page
(the newest 50) make, one after another. Baseline, same run and same SQLite
file: the overview's totals and the meter page's series by scanning raw events
(what a dashboard without rollups would wait for).
Run: python -m bench.dashboard_pages [--events N] [--repeat R]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from tests.live import serve

from bench.common import DAY_MS, START_MS, batches, save
from bench.ingest_http import METERS, UNIQUE_METER, send_all

CHUNK = 1_000_000  # events generated (and sent) per round, as in bench.query_large


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


def overview(c: httpx.Client, window: dict[str, str]) -> None:
    meters = c.get("/v1/meters").raise_for_status().json()
    summary = c.get("/v1/usage/summary", params=window).raise_for_status().json()
    c.get("/v1/ingestion").raise_for_status()
    shown = {r["meter"] for r in summary["data"]}
    for m in meters:
        if m["profile"] is None or m["slug"] in shown:
            c.get(f"/v1/meters/{m['slug']}/query", params={**window, "granularity": "day"})


def meter_page(c: httpx.Client, window: dict[str, str]) -> None:
    params = {**window, "granularity": "day", "group_by": "project", "tz": "Europe/Berlin"}
    c.get("/v1/meters/cpu_time/query", params=params).raise_for_status()
    c.get("/v1/meters/cpu_time/query", params={**params, "format": "csv"}).raise_for_status()


def events_page(c: httpx.Client, _: dict[str, str]) -> None:
    c.get("/v1/events", params={"limit": 50}).raise_for_status()


def timed(fn: Any, c: httpx.Client, window: dict[str, str], n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn(c, window)
        out.append((time.perf_counter() - started) * 1000)
    return out


def scans(db: Path, lo: int, hi: int) -> dict[str, float]:
    """The overview's three totals and the meter page's series, from the raw events."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    where = "tenant_id = 1 AND type = 'job' AND voided_ms IS NULL AND time_ms >= ? AND time_ms < ?"
    started = time.perf_counter()
    con.execute(
        f"SELECT sum(json_extract(data, '$.cpu_ms')), count(*), count(DISTINCT subject) "
        f"FROM events WHERE {where}",
        (lo, hi),
    ).fetchall()
    totals_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    con.execute(
        f"SELECT (time_ms - ?) / 86400000, json_extract(data, '$.project'), "
        f"sum(json_extract(data, '$.cpu_ms')) FROM events WHERE {where} GROUP BY 1, 2",
        (lo, lo, hi),
    ).fetchall()
    series_ms = (time.perf_counter() - started) * 1000
    con.close()
    return {"totals_ms": totals_ms, "series_ms": series_ms}


def p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=20)[q] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    n = args.events
    end = START_MS + 90 * DAY_MS
    window = {"from": iso(end - 30 * DAY_MS), "to": iso(end)}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        with serve(str(tmp / "u.db"), tmp) as live, live.client(timeout=600) as c:
            for meter in [*METERS, UNIQUE_METER]:
                c.post("/v1/meters", json=meter).raise_for_status()
            for chunk in range(0, n, CHUNK):
                send_all(live.url, batches(min(CHUNK, n - chunk), 1000, offset=chunk, total=n), 4)
            pages = {
                name: timed(fn, c, window, args.repeat)
                for name, fn in (
                    ("overview", overview),
                    ("meter", meter_page),
                    ("events", events_page),
                )
            }
            scan = scans(tmp / "u.db", end - 30 * DAY_MS, end)
    result: dict[str, Any] = {"events": n, "repeat": args.repeat}
    for name, times in pages.items():
        result[f"{name}_p50_ms"] = round(statistics.median(times), 1)
        result[f"{name}_p95_ms"] = round(p(times, 18), 1)
    result["scan_totals_ms"] = round(scan["totals_ms"], 1)
    result["scan_series_ms"] = round(scan["series_ms"], 1)
    print(result)
    save(
        f"dashboard_pages_{n // 1_000_000}m",
        result,
        [
            (
                "overview: meters, summary, ingestion, a series per meter; p50 / p95",
                f"{result['overview_p50_ms']} / {result['overview_p95_ms']} ms",
                "",
            ),
            (
                "meter page: 30-day daily series by project + its CSV; p50 / p95",
                f"{result['meter_p50_ms']} / {result['meter_p95_ms']} ms",
                "p95 < 200 ms",
            ),
            (
                "events page: newest 50; p50 / p95",
                f"{result['events_p50_ms']} / {result['events_p95_ms']} ms",
                "p95 < 100 ms",
            ),
            (
                "baseline: the overview's 3 totals by scanning raw events (overview p50 / scan)",
                f"{result['scan_totals_ms']:,} ms "
                f"({result['overview_p50_ms'] / result['scan_totals_ms']:.2f}x)",
                "",
            ),
            (
                "baseline: the meter page's series by scanning raw events (meter p50 / scan)",
                f"{result['scan_series_ms']:,} ms "
                f"({result['meter_p50_ms'] / result['scan_series_ms']:.2f}x)",
                "",
            ),
        ],
    )


if __name__ == "__main__":
    main()
