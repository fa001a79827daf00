"""The CLI through its real entry point (the `usagekit` console script) against a live server."""

from __future__ import annotations

import csv
import io
import os
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.client.test_sdk import jobs
from tests.conftest import ADMIN_KEY
from tests.live import USAGEKIT, Live, serve
from usagekit import Client


@pytest.fixture(scope="module")
def live(module_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("cli")
    with serve(module_db, tmp) as server:
        yield server


def run(
    live: Live, *args: str, key: str = ADMIN_KEY, stdin: bytes | None = None, code: int = 0
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "USAGEKIT_URL": live.url, "USAGEKIT_API_KEY": key, "COLUMNS": "200"}
    done = subprocess.run(
        [USAGEKIT, *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == code, (done.stdout, done.stderr)
    return done


def ndjson(events: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(e, option=orjson.OPT_UTC_Z) + b"\n" for e in events)


@pytest.mark.slow
def test_send_files_in_every_format_then_query(live: Live, tmp_path: Path) -> None:
    run(
        live, "meters", "create", "cli_cpu", "--event-type", "job", "--aggregation", "sum",
        "--value-property", "cpu_ms", "--dimension", "project=project", "--unit", "ms",
    )  # fmt: skip
    events = jobs(1200, prefix="cli")
    first, second, third = events[:400], events[400:800], events[800:]
    (tmp_path / "a.ndjson").write_bytes(ndjson(first))
    (tmp_path / "b.json").write_bytes(orjson.dumps({"events": second}, option=orjson.OPT_UTC_Z))
    with (tmp_path / "c.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "source", "type", "subject", "time", "data.cpu_ms", "data.project"])
        for e in third:
            data = e["data"]
            writer.writerow(
                [e["id"], e["source"], e["type"], e["subject"], e["time"].isoformat(),
                 data["cpu_ms"], data["project"]]
            )  # fmt: skip
    for name in ("a.ndjson", "b.json", "c.csv"):
        done = run(live, "send", str(tmp_path / name))
        assert "400 accepted" in done.stderr and "events/s" in done.stderr
    again = run(live, "send", "-", stdin=ndjson(first))
    assert "0 accepted, 400 duplicates" in again.stderr

    got = run(live, "query", "cli_cpu", "--from", "2026-10-01", "--to", "2026-10-16",
              "--group-by", "project", "--format", "csv")  # fmt: skip
    expected: dict[tuple[str, str], int] = defaultdict(int)
    for e in events:
        data = e["data"]
        expected[(e["time"].date().isoformat(), data["project"])] += data["cpu_ms"]
    rows = list(csv.DictReader(io.StringIO(got.stdout)))
    assert len(rows) == 30  # 15 days x 2 projects
    assert {
        (r["start"][:10], r["project"]): int(r["value"]) for r in rows if r["value"] != "0"
    } == expected
    as_json = orjson.loads(
        run(live, "query", "cli_cpu", "--from", "2026-10-01", "-f", "json").stdout
    )
    assert sum(r["value"] for r in as_json) == sum(expected.values())
    table = run(live, "query", "cli_cpu", "--from", "2026-10-01", "--to", "2026-10-03", "--tz",
                "Asia/Kathmandu").stdout  # fmt: skip
    assert "2026-10-01T00:00:00+05:45" in table
    summary = run(live, "summary", "--from", "2026-10-01", "-g", "project", "-f", "json").stdout
    totals = {r["project"]: r["value"] for r in orjson.loads(summary) if r["meter"] == "cli_cpu"}
    assert sum(totals.values()) == sum(expected.values())


def test_rejected_records_go_to_a_file_and_the_exit_status(live: Live, tmp_path: Path) -> None:
    good = jobs(3, prefix="rej")
    body = ndjson(good[:1]) + b'{"id": "no-time", "type": "job", "subject": "u"}\n{oops\n'
    body += ndjson(good[1:])
    (tmp_path / "mixed.ndjson").write_bytes(body)
    out = tmp_path / "refused.ndjson"
    done = run(live, "send", str(tmp_path / "mixed.ndjson"), "--rejected", str(out), code=1)
    assert "3 accepted" in done.stderr and "2 rejected" in done.stderr
    refused = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert sorted(r["line"] for r in refused) == [2, 3]
    assert any("time" in r["error"] for r in refused) and any("JSON" in r["error"] for r in refused)
    failures = orjson.loads(run(live, "failures", "list", "-f", "json").stdout)
    no_time = [
        f for f in failures if f["record"] == {"id": "no-time", "type": "job", "subject": "u"}
    ]
    assert no_time
    retried = run(live, "failures", "retry", str(no_time[0]["id"]), code=1)
    assert "time" in retried.stderr
    run(live, "failures", "clear", str(no_time[0]["id"]))
    left = orjson.loads(run(live, "failures", "list", "-f", "json").stdout)
    assert no_time[0]["id"] not in [f["id"] for f in left]


@pytest.mark.slow
def test_export_events_and_void(live: Live, tmp_path: Path) -> None:
    run(live, "send", "-", stdin=ndjson(jobs(50, prefix="exp")))
    target = tmp_path / "all.csv"
    done = run(live, "export", str(target), "--type", "job")
    with target.open() as fh:
        exported = list(csv.DictReader(fh))
    assert f"{len(exported):,} events exported" in done.stderr
    assert {"exp-0", "exp-49"} <= {r["id"] for r in exported}
    # The export is a file `send` takes back: all duplicates.
    assert f"0 accepted, {len(exported):,} duplicates" in run(live, "send", str(target)).stderr
    run(live, "void", "exp-0", "exp-1", "--source", "slurm")
    missing = run(live, "void", "exp-0", "nope", "--source", "slurm", code=1)
    assert "nope" in missing.stderr
    listed = orjson.loads(
        run(live, "events", "--subject", "user-0", "--limit", "500", "-f", "json").stdout
    )
    assert next(e for e in listed if e["id"] == "exp-0")["voided_at"] is not None


@pytest.mark.slow
def test_tenants_keys_and_meters(live: Live) -> None:
    run(live, "tenants", "create", "cli-tenant")
    assert "cli-tenant" in run(live, "tenants", "list").stdout
    secret = run(live, "keys", "create", "--role", "admin", "--tenant", "cli-tenant").stdout.strip()
    run(live, "meters", "create", "calls", "--event-type", "request", "--aggregation", "count",
        key=secret)  # fmt: skip
    listed = orjson.loads(run(live, "meters", "list", "-f", "json", key=secret).stdout)
    assert [m["slug"] for m in listed if not m["profile"]] == ["calls"]  # this tenant's only
    reader = run(live, "keys", "create", "--role", "read", key=secret).stdout.strip()
    denied = run(live, "meters", "delete", "calls", "--yes", key=reader, code=2)
    assert "403" in denied.stderr
    keys = orjson.loads(run(live, "keys", "list", "-f", "json", key=secret).stdout)
    reader_id = next(k["id"] for k in keys if k["role"] == "read")
    run(live, "keys", "revoke", reader_id, key=secret)
    assert "401" in run(live, "meters", "list", key=reader, code=2).stderr
    run(live, "meters", "delete", "calls", "--yes", key=secret)
    left = orjson.loads(run(live, "meters", "list", "-f", "json", key=secret).stdout)
    assert [m["slug"] for m in left if not m["profile"]] == []


def test_configuration_errors_name_the_setting(live: Live) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("USAGEKIT_")}
    done = subprocess.run([USAGEKIT, "meters", "list"], capture_output=True, text=True, env=env)
    assert done.returncode == 2 and "USAGEKIT_URL" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_demo_loads_every_profile(live: Live, tmp_path: Path) -> None:
    kept = ("--keys-file", str(tmp_path / "demo-keys.json"))
    done = run(live, "demo", "--days", "3", "--scale", "0.05", *kept)
    assert "loaded" in done.stderr
    lines = [line.split() for line in done.stdout.splitlines() if line.startswith("  ")]
    keys = {words[0]: words[-1] for words in lines}
    with Client(live.url, keys["initech-ai"]) as initech:
        slugs = {m.slug for m in initech.meters()}
        assert {"ld.contexts", "llm_input_tokens"} <= slugs
        tokens = initech.summary().total("llm_input_tokens")
        assert tokens and tokens > 0
    with Client(live.url, ADMIN_KEY) as default:
        summary = default.summary()
        assert {"cpu_time", "api_calls", "llm_credits", "ld.evaluations"} <= {
            r.meter for r in summary.data
        }
    again = run(live, "demo", "--days", "3", "--scale", "0.05", *kept)
    assert "loaded" in again.stderr  # a second run adds nothing twice (all duplicates)
