"""Webhook delivery throughput: alerts in the outbox sent to real receivers, against raw httpx.

A real `usagekit serve` (SQLite, its writer process, its sender) gets N alerts
committed into its outbox in one transaction (as the writer's limit evaluation
makes them), with endpoints on local uvicorn receivers: fast (200 at once) or slow
(200 after ~50 ms). Measured: deliveries/s from that commit until every receiver
holds every webhook-id. Baseline, same run, same receivers: plain httpx posting
the same signed bodies with as many requests in flight as the sender allows
(MAX_IN_FLIGHT in all, PER_ENDPOINT per endpoint).
Run: python -m bench.webhook_delivery [--alerts 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from standardwebhooks import Webhook
from tests.live import free_port, serve

from bench.common import START_MS, save
from bench.webhook_receiver import counts, receiving
from usagekit.services.delivery import MAX_IN_FLIGHT, PER_ENDPOINT, body_of
from usagekit.store import Store
from usagekit.store.alerts import CROSSED, AlertRow, alert_of, record
from usagekit.store.deliveries import Claim
from usagekit.store.schema import alerts, webhook_deliveries

SLOW_S = 0.05

# -- one scenario: endpoints on some receivers, N alerts, until all are in --


def add_alerts(db: str, n: int) -> None:
    store = Store.open(db)
    try:
        tenant = store.accounts.tenant_by_name("default")
        assert tenant is not None
        rows = [
            AlertRow(tenant.id, CROSSED, 1, "api-calls", f"user-{i}", 80, 800 + i % 200, 1000,
                     START_MS, START_MS + 86_400_000, START_MS + i)
            for i in range(n)
        ]  # fmt: skip
        with store.events.write_engine.begin() as conn:
            record(conn, rows)
    finally:
        store.close()


def end_to_end(
    db: str, tmp: Path, receivers: list[str], n: int
) -> tuple[dict[str, float], list[str]]:
    """Seconds until each receiver held all n alerts' ids; and each endpoint's secret."""
    with serve(db, tmp, "--webhook-timeout", "10") as live, live.client() as c:
        secrets = []
        for url in receivers:
            made = c.post("/v1/webhooks", json={"url": f"{url}/hook"})
            made.raise_for_status()
            secrets.append(made.json()["secret"])
        for url in receivers:
            httpx.delete(url, timeout=10).raise_for_status()
        started = time.perf_counter()
        add_alerts(db, n)
        done: dict[str, float] = {}
        deadline = time.monotonic() + 600
        while len(done) < len(receivers):
            for url in receivers:
                if url not in done and counts(url)["ids"] >= n:
                    done[url] = time.perf_counter() - started
            if time.monotonic() > deadline:
                raise RuntimeError(f"not delivered in time: {done}")
            time.sleep(0.05)
    return done, secrets


def signed(db: str, n: int, secret: str) -> list[tuple[bytes, dict[str, str]]]:
    """The bodies and headers the sender made for these alerts, signed with `secret`."""
    store = Store.open(db)
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(select(alerts).order_by(alerts.c.id).limit(n)).all()
    finally:
        store.close()
    out = []
    stamp = datetime.now(UTC)
    webhook = Webhook(secret)
    for r in rows:
        body = body_of(Claim(0, "", "", 1, 0, alert_of(r)))
        msg = f"msg_{r.id}"
        headers = {
            "content-type": "application/json",
            "webhook-id": msg,
            "webhook-timestamp": str(int(stamp.timestamp())),
            "webhook-signature": webhook.sign(msg, stamp, body.decode()),
        }
        out.append((body, headers))
    return out


def raw_httpx(work: list[tuple[str, bytes, dict[str, str]]], in_flight: int) -> float:
    """Seconds to POST every (url, body, headers) with `in_flight` requests at once."""

    async def run() -> float:
        queue = iter(work)
        limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:

            async def worker() -> None:
                for url, body, headers in queue:
                    reply = await client.post(url, content=body, headers=headers)
                    reply.raise_for_status()

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(in_flight)))
            return time.perf_counter() - started

    return asyncio.run(run())


def scenario(tmp: Path, name: str, receivers: list[str], n: int) -> dict[str, Any]:
    """A fresh server and database; the sender's run, then raw httpx's, to `receivers`."""
    db = str(tmp / f"{name}.db")
    done, secrets = end_to_end(db, tmp, receivers, n)
    total = n * len(receivers)
    seconds = max(done.values())
    bodies = [signed(db, n, s) for s in secrets]
    work = [(f"{url}/hook", *bodies[k][i]) for i in range(n) for k, url in enumerate(receivers)]
    in_flight = min(MAX_IN_FLIGHT, PER_ENDPOINT * len(receivers))  # as the sender may
    raw_seconds = raw_httpx(work, in_flight)
    store = Store.open(db)
    try:
        with store.engine.connect() as conn:
            states = dict(
                conn.execute(
                    select(webhook_deliveries.c.status, func.count()).group_by(
                        webhook_deliveries.c.status
                    )
                ).all()
            )
    finally:
        store.close()
    result = {
        "receivers": len(receivers),
        "in_flight": in_flight,
        "alerts": n,
        "deliveries": total,
        "seconds": round(seconds, 3),
        "per_receiver_seconds": [round(done[u], 3) for u in receivers],
        "deliveries_per_s": round(total / seconds),
        "raw_httpx_per_s": round(total / raw_seconds),
        "ratio": round(raw_seconds / seconds, 3),
        "statuses": states,
    }
    print(name, result, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--port", type=int, default=0, help="first receiver port (else free)")
    args = parser.parse_args()
    n = args.alerts
    ports = [args.port + k if args.port else free_port() for k in range(5)]
    results: dict[str, Any] = {"max_in_flight": MAX_IN_FLIGHT, "per_endpoint": PER_ENDPOINT}
    with tempfile.TemporaryDirectory() as tmp_dir, ExitStack() as stack:
        tmp = Path(tmp_dir)
        fast = [stack.enter_context(receiving(p, 0)) for p in ports[:4]]
        slow = stack.enter_context(receiving(ports[4], SLOW_S))
        results["one_fast"] = scenario(tmp, "one_fast", fast[:1], n)
        results["four_fast"] = scenario(tmp, "four_fast", fast, n // 4)
        results["slow_and_fast"] = scenario(tmp, "slow_and_fast", [slow, fast[0]], n // 4)
    print(results)
    one, four, mixed = results["one_fast"], results["four_fast"], results["slow_and_fast"]
    slow_s, fast_s = mixed["per_receiver_seconds"]
    save(
        "webhook_delivery",
        results,
        [
            (f"{n:,} alerts to 1 fast receiver", f"{one['deliveries_per_s']:,} deliveries/s",
             ""),
            ("raw httpx, same signed bodies", f"{one['raw_httpx_per_s']:,} requests/s",
             "baseline"),
            ("ratio", f"{one['ratio']:.2f}", ""),
            (f"{n // 4:,} alerts to each of 4 fast receivers",
             f"{four['deliveries_per_s']:,} deliveries/s", ""),
            ("raw httpx, same", f"{four['raw_httpx_per_s']:,} requests/s", "baseline"),
            ("ratio", f"{four['ratio']:.2f}", ""),
            (f"{n // 4:,} alerts to a slow (50 ms) and a fast receiver",
             f"{mixed['deliveries_per_s']:,} deliveries/s; fast one done in {fast_s:.1f} s, "
             f"slow in {slow_s:.1f} s", ""),
            ("raw httpx, same", f"{mixed['raw_httpx_per_s']:,} requests/s", "baseline"),
            ("ratio", f"{mixed['ratio']:.2f}", ""),
        ],
    )  # fmt: skip


if __name__ == "__main__":
    main()
