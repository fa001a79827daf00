"""LaunchDarkly routes against the native query of the same preset, same server, same run.

Loads ld.context and ld.service_connection events over HTTP into a real `usagekit
serve` (SQLite), then times each LaunchDarkly route beside `/v1/meters/<preset>/query`
asking the engine the same question; the ratio is what the profile's translation
(parameter checks, table lookup, the series pivot) costs. DuckDB answering the same
questions by scanning the raw events (in memory) is the outside baseline.
Run: python -m bench.launchdarkly
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import orjson
from tests.live import serve

from bench.common import DAY_MS, save, timed

NOW_MS = int(time.time() * 1000) // 3_600_000 * 3_600_000
DAYS = 90


def ld_events(n: int, seed: int = 11) -> list[bytes]:
    """n ld.context (90%) and ld.service_connection events over 90 days, bodies of 1,000."""
    rng = random.Random(seed)
    bodies, batch = [], []
    for i in range(n):
        t = NOW_MS - DAYS * DAY_MS + int(i * DAYS * DAY_MS / n)
        sdk, sdk_type = rng.choice([("react", "client"), ("ios", "client"), ("go", "server")])
        place = {
            "projectKey": f"p{rng.randint(1, 5)}",
            "environmentKey": rng.choice(["prod", "dev"]),
        }
        if i % 10:
            kind = rng.choice(["user", "user", "device"])
            data = {**place, "contextKind": kind, "contextKey": f"{kind}-{rng.randint(1, 50_000)}",
                    "sdkName": sdk, "sdkType": sdk_type, "sdkAppId": "app", "anonymous": False,
                    "primary": kind == "user", "category": "browser"}  # fmt: skip
            kind_name = "ld.context"
        else:
            data = {**place, "connectionType": rng.choice(["relay", "direct"]), "sdkName": sdk,
                    "sdkType": sdk_type, "minutes": rng.randint(1, 600) / 4}  # fmt: skip
            kind_name = "ld.service_connection"
        batch.append({"id": f"ld{i}", "source": "bench", "type": kind_name, "subject": "s",
                      "time": t, "data": data})  # fmt: skip
        if len(batch) == 1000:
            bodies.append(orjson.dumps(batch))
            batch = []
    if batch:
        bodies.append(orjson.dumps(batch))
    return bodies


def questions() -> list[tuple[str, str, dict[str, Any], str, dict[str, Any]]]:
    """(what, LaunchDarkly route, its params, native route, the same question natively)."""
    lo, hi = NOW_MS - (DAYS - 1) * DAY_MS, NOW_MS
    span = {"from": str(lo), "to": str(hi)}
    native_span = {"from": str(lo), "to": str(hi), "granularity": "day"}
    return [
        ("89-day daily rolling_30d distinct contexts by kind and SDK", "total-contexts",
         {**span, "aggregationType": "rolling_30d", "groupBy": "sdkName"}, "ld.contexts",
         {**native_span, "aggregation_type": "rolling_30d",
          "group_by": ["contextKind", "sdkName"]}),
        ("same, from and to at UTC midnights", "total-contexts",
         {"from": str(lo - lo % DAY_MS), "to": str(hi - hi % DAY_MS),
          "aggregationType": "rolling_30d", "groupBy": "sdkName"}, "ld.contexts",
         {"from": str(lo - lo % DAY_MS), "to": str(hi - hi % DAY_MS), "granularity": "day",
          "aggregation_type": "rolling_30d", "group_by": ["contextKind", "sdkName"]}),
        ("89-day daily month-to-date client-side MAU", "clientside-mau", span, "ld.contexts",
         {**native_span, "aggregation_type": "month_to_date", "filter[primary]": "true",
          "filter[sdkType]": "client"}),
        ("30-day hourly service-connection minutes by type", "service-connections",
         {"from": str(hi - 30 * DAY_MS), "to": str(hi), "granularity": "hourly",
          "aggregationType": "incremental", "groupBy": "connectionType"},
         "ld.service_connection_minutes",
         {"from": str(hi - 30 * DAY_MS), "to": str(hi), "granularity": "hour",
          "group_by": "connectionType"}),
    ]  # fmt: skip


# The questions of `questions()` (UTC days from `lo`), over the raw events.
DUCK_QUERIES = {
    "total-contexts": (
        "WITH days AS (SELECT range AS d FROM range($lo, $hi, 86400000)) "
        "SELECT d, kind, sdk, count(DISTINCT key) FROM days JOIN ev "
        "ON ev.t >= d + 86400000 - 2592000000 AND ev.t < d + 86400000 "
        "WHERE ev.type = 'ld.context' GROUP BY ALL"
    ),
    "clientside-mau": (
        "WITH days AS (SELECT range AS d, "
        "epoch_ms(date_trunc('month', make_timestamp(range * 1000))) AS m "
        "FROM range($lo, $hi, 86400000)) "
        "SELECT d, count(DISTINCT key) FROM days JOIN ev ON ev.t >= m AND ev.t < d + 86400000 "
        "WHERE ev.type = 'ld.context' AND ev.is_primary AND ev.sdk_type = 'client' GROUP BY d"
    ),
    "service-connections": (
        "SELECT (t - ($hi - 2592000000)) // 3600000 AS h, connection, sum(minutes) FROM ev "
        "WHERE type = 'ld.service_connection' AND t >= $hi - 2592000000 AND t < $hi "
        "GROUP BY ALL"
    ),
}


def duckdb_times(bodies: list[bytes], tmp: Path, n: int) -> dict[str, list[float]]:
    """Milliseconds of `n` answers of each route's question by DuckDB over the raw events."""
    path = tmp / "ld.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["type", "t", "kind", "key", "sdk", "sdk_type", "is_primary", "connection",
                    "minutes"])  # fmt: skip
        for body in bodies:
            for e in orjson.loads(body):
                d = e["data"]
                w.writerow([e["type"], e["time"], d.get("contextKind", ""), d.get("contextKey", ""),
                            d["sdkName"], d["sdkType"], d.get("primary", False),
                            d.get("connectionType", ""), d.get("minutes", 0)])  # fmt: skip
    con = duckdb.connect()
    con.execute(f"CREATE TABLE ev AS SELECT * FROM read_csv_auto('{path}')")
    span = {"lo": NOW_MS - (DAYS - 1) * DAY_MS, "hi": NOW_MS}
    out: dict[str, list[float]] = {}
    for route, sql in DUCK_QUERIES.items():
        times = []
        for _ in range(n):
            started = time.perf_counter()
            con.execute(sql, {k: v for k, v in span.items() if f"${k}" in sql}).fetchall()
            times.append((time.perf_counter() - started) * 1000)
        out[route] = times
    con.close()
    return out


_TARGETS = {"total-contexts": "p95 < 100 ms", "clientside-mau": "p95 < 50 ms"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    bodies = ld_events(args.events)
    rows: list[tuple[str, str, str]] = []
    result: dict[str, Any] = {"events": args.events, "requests": args.requests, "queries": []}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        with serve(str(tmp / "ld.db"), tmp) as live, live.client(timeout=300) as c:
            started = time.perf_counter()
            for body in bodies:
                reply = c.post("/v1/events", content=body,
                               headers={"Content-Type": "application/json"})  # fmt: skip
                reply.raise_for_status()
            load = args.events / (time.perf_counter() - started)
            rows.append((f"load {args.events:,} ld.* events over HTTP", f"{load:,.0f}/s", ""))
            result["load_per_s"] = round(load)
            duck = duckdb_times(bodies, tmp, 5)
            for what, route, params, slug, native in questions():
                ours = timed(c, f"/api/v2/usage/{route}", params, args.requests)
                base = timed(c, f"/v1/meters/{slug}/query", native, args.requests)
                p50, b50 = statistics.median(ours), statistics.median(base)
                p95 = statistics.quantiles(ours, n=20)[18]
                d50 = statistics.median(duck[route])
                result["queries"].append({"what": what, "route": route, "p50_ms": round(p50, 2),
                                          "p95_ms": round(p95, 2),
                                          "native_p50_ms": round(b50, 2),
                                          "ratio": round(p50 / b50, 3),
                                          "duckdb_p50_ms": round(d50, 2)})  # fmt: skip
                shown = f"{p50:.1f} / {b50:.1f} ms ({p50 / b50:.2f}x)"
                rows.append((f"{what}: `{route}` / native query, p50", shown, "<= 1.2x"))
                rows.append((f"{what}: `{route}` p95; DuckDB over the raw events, p50",
                             f"{p95:.1f} ms; {d50:.1f} ms", _TARGETS.get(route, "")))  # fmt: skip
    print(result)
    save("launchdarkly", result, rows)


if __name__ == "__main__":
    main()
