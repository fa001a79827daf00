"""Ingest over HTTP with dedup, batches of 1,000, against a real `usagekit serve` (SQLite).

Compared in the same run with a bare executemany of the same rows into a table
with the same indexes (the storage limit). Run: python -m bench.ingest_http
"""

from __future__ import annotations

import argparse
import queue
import tempfile
import threading
import time
from pathlib import Path

import httpx
from tests.conftest import ADMIN_KEY
from tests.live import serve

from bench.common import baseline_executemany, batches, save

CPU_METER = {
    "slug": "cpu_time",
    "event_type": "job",
    "aggregation": "sum",
    "value_property": "cpu_ms",
    "dimensions": {"project": "project"},
}
UNIQUE_METER = {"slug": "active_users", "event_type": "job", "aggregation": "unique_count"}
METERS = [
    CPU_METER,
    {
        "slug": "jobs",
        "event_type": "job",
        "aggregation": "count",
        "dimensions": {"project": "project"},
    },
]


def send_all(url: str, bodies: list[bytes], clients: int) -> tuple[float, int, int]:
    """Post every body from `clients` threads; returns (seconds, accepted, duplicates)."""
    work: queue.Queue[bytes] = queue.Queue()
    for body in bodies:
        work.put(body)
    totals = [0, 0]
    lock = threading.Lock()
    errors: list[str] = []

    def worker() -> None:
        headers = {"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"}
        with httpx.Client(base_url=url, headers=headers, timeout=120) as c:
            while True:
                try:
                    body = work.get_nowait()
                except queue.Empty:
                    return
                reply = c.post("/v1/events", content=body)
                if reply.status_code != 202:
                    errors.append(reply.text)
                    return
                got = reply.json()
                with lock:
                    totals[0] += got["accepted"]
                    totals[1] += got["duplicates"]

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(errors[0])
    return elapsed, totals[0], totals[1]


def ingest_and_resend(
    url: str, c: httpx.Client, bodies: list[bytes], clients: int, unique: bool
) -> tuple[float, float]:
    """Make the meters, send every body, then re-send a tenth: (events/s, duplicates/s).

    Checks that every event was accepted once and every re-sent one was a duplicate.
    """
    for meter in METERS + ([UNIQUE_METER] if unique else []):
        c.post("/v1/meters", json=meter).raise_for_status()
    seconds, accepted, _ = send_all(url, bodies, clients)
    resend = bodies[: max(1, len(bodies) // 10)]
    dup_seconds, dup_accepted, dups = send_all(url, resend, clients)
    sent = sum(body.count(b'"id"') for body in bodies)
    assert accepted == sent and dup_accepted == 0
    assert dups == sum(body.count(b'"id"') for body in resend)
    return accepted / seconds, dups / dup_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--sync", default="FULL")
    parser.add_argument("--unique", action="store_true", help="also keep a unique-users meter")
    args = parser.parse_args()
    bodies = batches(args.events, args.batch)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        base_1k = baseline_executemany(tmp / "base1.db", bodies, 1, args.sync)
        base_10k = baseline_executemany(tmp / "base10.db", bodies, 10, args.sync)
        with (
            serve(str(tmp / "u.db"), tmp, "--sqlite-synchronous", args.sync) as live,
            live.client() as c,
        ):
            rate, dup_rate = ingest_and_resend(live.url, c, bodies, args.clients, args.unique)
    result = {
        "events": args.events,
        "batch": args.batch,
        "clients": args.clients,
        "sync": args.sync,
        "unique_meter": args.unique,
        "events_per_s": round(rate),
        "resend_duplicates_per_s": round(dup_rate),
        "baseline_executemany_1k_per_txn": round(base_1k),
        "baseline_executemany_10k_per_txn": round(base_10k),
        "ratio_to_baseline_1k": round(rate / base_1k, 3),
        "ratio_to_baseline_10k": round(rate / base_10k, 3),
    }
    print(result)
    name = "ingest_http" + ("_unique" if args.unique else "")
    meters = "sum + count by project" + (" + unique users" if args.unique else "")
    save(
        name,
        result,
        [
            (
                f"HTTP ingest, {args.events:,} events, batches of {args.batch}, {meters}",
                f"{rate:,.0f} events/s",
                ">= 100,000 events/s",
            ),
            (
                "bare executemany, same rows and indexes, 1,000 rows/txn",
                f"{base_1k:,.0f} rows/s",
                "baseline",
            ),
            ("bare executemany, 10,000 rows/txn", f"{base_10k:,.0f} rows/s", "baseline"),
            (
                "ratio to baseline (1k / 10k rows per txn)",
                f"{rate / base_1k:.2f} / {rate / base_10k:.2f}",
                ">= 0.40",
            ),
            ("re-sent batches (all duplicates)", f"{dup_rate:,.0f} events/s", ""),
        ],
    )


if __name__ == "__main__":
    main()
