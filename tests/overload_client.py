"""A load generator in a process of its own: CONNS clients at once, each posting ROUNDS
batches of SIZE events; writes one record per request (tag, status, seconds, Retry-After,
error code) as JSON to OUT. Run: python -m tests.overload_client URL CONNS ROUNDS SIZE OUT
"""

from __future__ import annotations

import asyncio
import ssl
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from tests.conftest import ADMIN_KEY
from tests.fault_kit import batch


async def run(url: str, conns: int, rounds: int, size: int) -> list[dict[str, Any]]:
    bodies = {
        (w, r): orjson.dumps(batch(f"c{w}r{r}", size)) for w in range(conns) for r in range(rounds)
    }
    results: list[dict[str, Any]] = []
    headers = {"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"}

    tls = ssl.create_default_context()  # made once: each costs milliseconds of CPU
    # A client (one connection) per worker: httpx's pool slows down with hundreds.
    clients = [
        httpx.AsyncClient(base_url=url, headers=headers, timeout=120, verify=tls)
        for _ in range(conns)
    ]

    async def worker(w: int) -> None:
        async with clients[w] as client:
            for r in range(rounds):
                started = time.perf_counter()
                record: dict[str, Any] = {"tag": f"c{w}r{r}"}
                try:
                    reply = await client.post("/v1/events", content=bodies[w, r])
                    record["status"] = reply.status_code
                    record["retry_after"] = reply.headers.get("retry-after")
                    if reply.status_code >= 400:
                        record["code"] = reply.json()["error"]["code"]
                    else:
                        record["accepted"] = reply.json()["accepted"]
                except httpx.TransportError as exc:
                    record["status"] = 0
                    record["code"] = type(exc).__name__
                record["seconds"] = time.perf_counter() - started
                results.append(record)

    await asyncio.gather(*(worker(w) for w in range(conns)))
    return results


def main() -> None:
    url, conns, rounds, size, out = sys.argv[1:6]
    results = asyncio.run(run(url, int(conns), int(rounds), int(size)))
    Path(out).write_bytes(orjson.dumps(results))


if __name__ == "__main__":
    main()
