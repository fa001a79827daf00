"""The SDK's `send` against raw httpx posting the same pre-serialised bodies, same run.

Each measurement gets a fresh `usagekit serve` (SQLite) so no run inherits a
larger database. The SDK starts from Python dicts (serialising and chunking is its
work); the baseline posts the exact bodies the SDK's chunker makes, one
connection, one request at a time, as the SDK does. Run: python -m bench.sdk_send
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from tests.conftest import ADMIN_KEY
from tests.live import serve

from bench.common import events, save
from bench.ingest_http import METERS
from usagekit import AsyncClient, Client
from usagekit.client import SendResult, batching


def fresh_server(tmp: Path, name: str) -> Any:
    return serve(str(tmp / f"{name}.db"), tmp)


def raw_httpx(url: str, bodies: list[bytes]) -> tuple[float, int]:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"}
    accepted = 0
    with httpx.Client(base_url=url, headers=headers, timeout=120) as c:
        started = time.perf_counter()
        for body in bodies:
            reply = c.post("/v1/events", content=body)
            reply.raise_for_status()
            accepted += reply.json()["accepted"]
        return time.perf_counter() - started, accepted


def sdk_sync(url: str, records: list[dict[str, Any]]) -> tuple[float, int]:
    with Client(url, ADMIN_KEY, timeout=120) as c:
        started = time.perf_counter()
        result = c.send(records)
        return time.perf_counter() - started, result.accepted


def sdk_async(url: str, records: list[dict[str, Any]]) -> tuple[float, int]:
    async def run() -> tuple[float, int]:
        async with AsyncClient(url, ADMIN_KEY, timeout=120) as c:
            started = time.perf_counter()
            result = await c.send(records)
            return time.perf_counter() - started, result.accepted

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=1, help="repeat, alternating the order")
    args = parser.parse_args()
    records = list(events(args.events))
    bodies = [c.body for c in batching.chunks(records, SendResult(), batching.Budget())]
    rates: dict[str, list[float]] = {"raw": [], "sync": [], "async": []}
    runners = {
        "raw": lambda url: raw_httpx(url, bodies),
        "sync": lambda url: sdk_sync(url, records),
        "async": lambda url: sdk_async(url, records),
    }
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        for k in range(args.rounds):
            order = list(runners) if k % 2 == 0 else list(reversed(runners))
            for name in order:
                with fresh_server(tmp, f"{name}{k}") as live, live.client() as c:
                    for meter in METERS:
                        c.post("/v1/meters", json=meter).raise_for_status()
                    seconds, accepted = runners[name](live.url)
                assert accepted == args.events, (name, accepted)
                rates[name].append(args.events / seconds)
                print(name, round(args.events / seconds))
    raw, sync, aio = (statistics.median(rates[n]) for n in ("raw", "sync", "async"))
    result = {
        "events": args.events,
        "requests": len(bodies),
        "events_per_request": round(args.events / len(bodies)),
        "rounds": args.rounds,
        "raw_httpx_per_s": round(raw),
        "sdk_sync_per_s": round(sync),
        "sdk_async_per_s": round(aio),
        "ratio_sync": round(sync / raw, 3),
        "ratio_async": round(aio / raw, 3),
    }
    print(result)
    save(
        "sdk_send",
        result,
        [
            (
                f"raw httpx posting pre-serialised bodies ({len(bodies):,} requests)",
                f"{raw:,.0f} events/s",
                "baseline",
            ),
            (f"`Client.send` of {args.events:,} dicts", f"{sync:,.0f} events/s", ""),
            ("`AsyncClient.send`, same", f"{aio:,.0f} events/s", ""),
            ("ratio to raw httpx (sync / async)", f"{sync / raw:.2f} / {aio / raw:.2f}", ">= 0.80"),
        ],
    )


if __name__ == "__main__":
    main()
