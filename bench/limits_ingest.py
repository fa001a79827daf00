"""Ingest over HTTP with 10 limits on the meter, against the same ingest without limits.

Both run in the same process of the same machine, alternating (without, with,
without, with), each against a fresh `usagekit serve` (SQLite) with the meters of
bench.ingest_http; the limits are per subject and tenant-wide, calendar and
rolling, one filtered by project, so every commit updates kept usage and checks
thresholds. Two feeds: a backfill (the events of 90 days, so every subject meets a
new day, week and month all the time) and live ingest (the events of the last 24
hours). Run: python -m bench.limits_ingest [--events N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.live import serve

from bench.common import batches, save
from bench.ingest_http import METERS, send_all

LIMITS: list[dict[str, Any]] = [
    {"slug": "monthly", "period": "month", "limit": 10**9, "thresholds": [50, 80, 100]},
    {"slug": "monthly-eu", "period": "month", "tz": "Europe/Berlin", "limit": 2 * 10**9},
    {"slug": "daily", "period": "day", "limit": 10**8, "thresholds": [80, 100]},
    {"slug": "daily-ny", "period": "day", "tz": "America/New_York", "limit": 10**8},
    {"slug": "weekly", "period": "week", "limit": 5 * 10**8},
    {"slug": "weekly-p1", "period": "week", "limit": 10**8, "filter": {"project": ["proj-1"]}},
    {"slug": "rolling-7", "period": "rolling_7d", "limit": 5 * 10**8},
    {"slug": "rolling-30", "period": "rolling_30d", "limit": 2 * 10**9, "thresholds": [90]},
    {"slug": "tenant-month", "period": "month", "limit": 10**12, "scope": "tenant"},
    {"slug": "tenant-day", "period": "day", "limit": 10**11, "scope": "tenant"},
]


def run(bodies: list[bytes], clients: int, limits: bool) -> tuple[float, int]:
    """Events/s for one fresh server, and the alerts it recorded."""
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        with serve(str(tmp / "u.db"), tmp) as live, live.client() as c:
            for meter in METERS:
                c.post("/v1/meters", json=meter).raise_for_status()
            for body in LIMITS if limits else []:
                c.post("/v1/limits", json={"meter": "cpu_time", **body}).raise_for_status()
            seconds, accepted, _ = send_all(live.url, bodies, clients)
            assert accepted == sum(body.count(b'"id"') for body in bodies)
            alerts = len(c.get("/v1/alerts", params={"limit": 1000}).json()["data"])
            return accepted / seconds, alerts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    feeds = {
        "backfill": batches(args.events, args.batch),
        "live": batches(args.events, args.batch, days=1,
                        start=int(time.time() * 1000) - 86_400_000),
    }  # fmt: skip
    result: dict[str, Any] = {"events": args.events, "batch": args.batch,
                              "clients": args.clients, "limits": len(LIMITS)}  # fmt: skip
    rows = []
    for feed, bodies in feeds.items():
        without, with_limits, alerts = [], [], 0
        for _ in range(args.rounds):
            without.append(run(bodies, args.clients, False)[0])
            rate, alerts = run(bodies, args.clients, True)
            with_limits.append(rate)
        base, rate = statistics.median(without), statistics.median(with_limits)
        result[feed] = {
            "events_per_s_without_limits": [round(r) for r in without],
            "events_per_s_with_limits": [round(r) for r in with_limits],
            "alerts_recorded_up_to_1000": alerts,
            "ratio": round(rate / base, 3),
        }
        rows += [
            (f"{feed}: HTTP ingest, {args.events:,} events, no limits (median of {args.rounds})",
             f"{base:,.0f} events/s", "baseline"),
            (f"{feed}: same, {len(LIMITS)} limits on the meter (kept at commit, alerts)",
             f"{rate:,.0f} events/s", ""),
            (f"{feed}: ratio with / without limits", f"{rate / base:.2f}", ">= 0.90"),
        ]  # fmt: skip
    print(result)
    save("limits_ingest", result, rows)


if __name__ == "__main__":
    main()
