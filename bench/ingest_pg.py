"""Ingest over HTTP with dedup on PostgreSQL: `usagekit serve --workers 2` on a fresh database.

Compared in the same run with bare loads of the same rows into a table with
usagekit's schema and indexes on the same server: psycopg 3 executemany and
COPY, one transaction per 1,000-row body. The database is created for the run
and dropped at the end. Run: python -m bench.ingest_pg [--events N] [--unique]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from tests.live import serve

from bench.common import (
    BASELINE_INSERT,
    baseline_rows,
    baseline_schema,
    batches,
    pg_database,
    pg_version,
    save,
)
from bench.ingest_http import ingest_and_resend

COLUMNS = "tenant_id, source, event_id, type, subject, time_ms, hour, data, received_ms"


def baseline(url: str, rows_per_body: list[list[tuple[Any, ...]]], how: str) -> float:
    """Rows/s of a bare load (executemany or COPY) into a fresh copy of usagekit's events table."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS baseline CASCADE")
        conn.execute("CREATE SCHEMA baseline")
        conn.execute("SET search_path TO baseline")
        for stmt in baseline_schema("postgresql"):
            conn.execute(stmt)
        insert = BASELINE_INSERT.format(marks=", ".join(["%s"] * 9))
        started = time.perf_counter()
        for rows in rows_per_body:
            with conn.transaction(), conn.cursor() as cur:
                if how == "copy":
                    with cur.copy(f"COPY events ({COLUMNS}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                else:
                    cur.executemany(insert, rows)
        elapsed = time.perf_counter() - started
        conn.execute("DROP SCHEMA baseline CASCADE")
    return sum(len(r) for r in rows_per_body) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--unique", action="store_true", help="also keep a unique-users meter")
    args = parser.parse_args()
    bodies = batches(args.events, args.batch)
    rows = baseline_rows(bodies)
    with pg_database() as db, tempfile.TemporaryDirectory() as tmp_dir:
        version = pg_version(db)
        base_many = baseline(db, rows, "executemany")
        base_copy = baseline(db, rows, "copy")
        del rows
        with (
            serve(db, Path(tmp_dir), "--workers", str(args.workers)) as live,
            live.client() as c,
        ):
            rate, dup_rate = ingest_and_resend(live.url, c, bodies, args.clients, args.unique)
    result = {
        "events": args.events,
        "batch": args.batch,
        "clients": args.clients,
        "workers": args.workers,
        "unique_meter": args.unique,
        "events_per_s": round(rate),
        "resend_duplicates_per_s": round(dup_rate),
        "baseline_executemany_per_s": round(base_many),
        "baseline_copy_per_s": round(base_copy),
        "ratio_to_executemany": round(rate / base_many, 3),
        "ratio_to_copy": round(rate / base_copy, 3),
    }
    print(result)
    meters = "sum + count by project" + (" + unique users" if args.unique else "")
    save(
        "ingest_pg" + ("_unique" if args.unique else ""),
        result,
        [
            (
                f"HTTP ingest, {args.events:,} events, batches of {args.batch}, "
                f"{args.workers} API processes, {meters}",
                f"{rate:,.0f} events/s",
                ">= 30,000 events/s",
            ),
            (
                "bare executemany (psycopg 3), same rows and indexes, 1,000 rows/txn",
                f"{base_many:,.0f} rows/s",
                "baseline",
            ),
            ("bare COPY, 1,000 rows/txn", f"{base_copy:,.0f} rows/s", "baseline"),
            (
                "ratio to baseline (executemany / COPY)",
                f"{rate / base_many:.2f} / {rate / base_copy:.2f}",
                "",
            ),
            ("re-sent batches (all duplicates)", f"{dup_rate:,.0f} events/s", ""),
        ],
        database=version,
    )


if __name__ == "__main__":
    main()
