"""Ingest under overload, with admission control at its defaults and turned off.

256 clients at once, each posting 1,500-event batches, from a second process
(tests.overload_client), against a fresh `usagekit serve` (SQLite); a query runs
alongside. Reports answer times, how many were refused (503 + Retry-After), query
times, and the server's peak RSS. Run: python -m bench.overload [--conns N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from tests.fault_kit import METER, SPAN
from tests.live import serve

from bench.common import ROOT, save


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def one_run(args: argparse.Namespace, extra: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        out = tmp / "results.json"
        with serve(str(tmp / "u.db"), tmp, *extra) as live, live.client() as c:
            c.post("/v1/meters", json=METER).raise_for_status()
            counts = [str(args.conns), str(args.rounds), str(args.size)]
            load = subprocess.Popen(
                [sys.executable, "-m", "tests.overload_client", live.url, *counts, str(out)],
                cwd=ROOT.parent,
            )
            queries: list[float] = []
            while load.poll() is None:
                started = time.perf_counter()
                c.get("/v1/usage/summary", params=SPAN).raise_for_status()
                queries.append(time.perf_counter() - started)
                time.sleep(0.1)
            rss = peak_rss_mb(live.process.pid)
        results = orjson.loads(out.read_bytes())
    seconds = [r["seconds"] for r in results]
    ok = [r for r in results if r["status"] == 202]
    return {
        "requests": len(results),
        "accepted_requests": len(ok),
        "refused_503": sum(r["status"] == 503 for r in results),
        "other": sum(r["status"] not in (202, 503) for r in results),
        "answer_p50_s": round(statistics.median(seconds), 3),
        "answer_p99_s": round(quantile(seconds, 0.99), 3),
        "answer_max_s": round(max(seconds), 3),
        "query_max_s": round(max(queries), 3) if queries else None,
        "query_p50_s": round(statistics.median(queries), 3) if queries else None,
        "server_peak_rss_mb": round(rss, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conns", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--size", type=int, default=1500)
    args = parser.parse_args()
    on = one_run(args, [])
    off = one_run(args, ["--max-inflight", "1000000", "--max-inflight-bytes", str(2**40)])
    result = {"conns": args.conns, "rounds": args.rounds, "size": args.size, "on": on, "off": off}
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    rows = [
        ("requests answered 202", "accepted_requests", ""),
        ("requests refused 503 (Retry-After)", "refused_503", ""),
        ("requests with any other answer", "other", "0"),
        ("answer time p50 (s)", "answer_p50_s", ""),
        ("answer time p99 (s)", "answer_p99_s", "a few seconds"),
        ("answer time max (s)", "answer_max_s", "a few seconds"),
        ("query alongside, p50 / max (s)", "query", "stays fast"),
        ("server process peak RSS (MB)", "server_peak_rss_mb", "bounded"),
    ]

    def cell(run: dict[str, Any], key: str) -> str:
        if key == "query":
            return f"{run['query_p50_s']} / {run['query_max_s']}"
        return str(run[key])

    head = f"{args.conns} clients x {args.rounds} x {args.size} events: "
    table = [(head + label, f"{cell(on, k)} (off: {cell(off, k)})", t) for label, k, t in rows]
    save("overload", result, table)


if __name__ == "__main__":
    main()
