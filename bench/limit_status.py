"""Entitlement checks at scale: `GET /v1/limits/{slug}/status` with 10M events stored.

Loads the events (100k subjects, Zipf, 90 days) through a real `usagekit serve`
(SQLite), makes a monthly per-subject limit and a tenant-wide one, then sends one
more event for each of 200 sampled subjects so the writer keeps their usage (the
first commit after a limit is made counts the past). Timed, one request after
another over HTTP: the status of those subjects (served from the kept row), the
status of subjects not touched since (computed by the query engine), and as the
baseline of the same run, `GET /healthz` (the cost of a request that reads
nothing). Run: python -m bench.limit_status [--events N]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from tests.live import serve

from bench.common import DAY_MS, START_MS, batches, save
from bench.ingest_http import CPU_METER, send_all

CHUNK = 1_000_000


def p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def timed(c: httpx.Client, path: str, params: list[dict[str, str]]) -> list[float]:
    out = []
    for one in params:
        started = time.perf_counter()
        reply = c.get(path, params=one)
        out.append((time.perf_counter() - started) * 1000)
        reply.raise_for_status()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    n = args.events
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        with serve(str(tmp / "u.db"), tmp) as live, live.client(timeout=600) as c:
            c.post("/v1/meters", json=CPU_METER).raise_for_status()
            started = time.perf_counter()
            for chunk in range(0, n, CHUNK):
                bodies = batches(min(CHUNK, n - chunk), 1000, offset=chunk, total=n)
                send_all(live.url, bodies, 4)
            load_s = time.perf_counter() - started
            month = {"period": "month", "meter": "cpu_time", "limit": 10**10}
            for limit in ({"slug": "plan"}, {"slug": "all", "scope": "tenant"}):
                c.post("/v1/limits", json={**limit, **month}).raise_for_status()
            kept = [f"user-{rng.randrange(100_000)}" for _ in range(200)]
            last = START_MS + 89 * DAY_MS + 1000
            touch = [{"id": f"touch-{s}", "source": "bench", "type": "job", "subject": s,
                      "time": last, "data": {"cpu_ms": 1, "project": "proj-0"}}
                     for s in kept]  # fmt: skip
            c.post("/v1/events", json=touch).raise_for_status()
            at = {"at": str(last + 1000)}
            warm = [{"subject": s, **at} for s in kept]
            timed(c, "/v1/limits/plan/status", warm)
            from_state = timed(c, "/v1/limits/plan/status",
                               [rng.choice(warm) for _ in range(args.requests)])  # fmt: skip
            others = [{"subject": f"user-{rng.randrange(100_000)}", **at} for _ in range(200)]
            computed = timed(c, "/v1/limits/plan/status", others)
            tenant = timed(c, "/v1/limits/all/status", [at] * 200)
            health = timed(c, "/healthz", [{}] * args.requests)
    result = {
        "events": n,
        "load_seconds": round(load_s, 1),
        "status_kept_p50_ms": round(statistics.median(from_state), 2),
        "status_kept_p99_ms": round(p(from_state, 99), 2),
        "status_computed_p50_ms": round(statistics.median(computed), 2),
        "status_computed_p99_ms": round(p(computed, 99), 2),
        "status_tenant_p99_ms": round(p(tenant, 99), 2),
        "healthz_p50_ms": round(statistics.median(health), 2),
        "healthz_p99_ms": round(p(health, 99), 2),
    }
    print(result)
    save(
        "limit_status",
        result,
        [
            (
                f"limit status, kept usage, {n:,} events, {args.requests} requests (p50 / p99)",
                f"{result['status_kept_p50_ms']} / {result['status_kept_p99_ms']} ms",
                "p99 < 5 ms",
            ),
            (
                "limit status, usage not kept yet (query engine; p50 / p99)",
                f"{result['status_computed_p50_ms']} / {result['status_computed_p99_ms']} ms",
                "",
            ),
            ("tenant-wide limit status (p99)", f"{result['status_tenant_p99_ms']} ms", ""),
            (
                "baseline: GET /healthz, same server (p50 / p99)",
                f"{result['healthz_p50_ms']} / {result['healthz_p99_ms']} ms",
                "baseline",
            ),
        ],
    )


if __name__ == "__main__":
    main()
