"""The CLI's contract with a user: version, help on everything, exit codes, wording, formats.

Through the real `usagekit` console script against a live server (both backends).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import typer

from tests.client.test_cli import ndjson, run
from tests.client.test_sdk import jobs
from tests.conftest import ADMIN_KEY
from tests.live import USAGEKIT, Live, free_port, serve
from usagekit import __version__
from usagekit.cli import app


@pytest.fixture(scope="module")
def live(module_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("cli-contract")
    with serve(module_db, tmp) as server:
        yield server


def bare(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command with no USAGEKIT_* settings but `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("USAGEKIT_")}
    return subprocess.run(
        [USAGEKIT, *args], capture_output=True, text=True, env={**clean, **(env or {})}, timeout=60
    )


def test_version() -> None:
    done = bare("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"usagekit {__version__}"


def _commands(command: Any, path: str = "usagekit") -> Iterator[tuple[str, Any]]:
    """Every command of the app and its groups (typer brings its own click)."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, f"{path} {name}")


def test_every_argument_and_option_has_help() -> None:
    commands = list(_commands(typer.main.get_command(app)))
    params = [(path, p) for path, c in commands for p in c.params]
    assert len(commands) > 25 and len(params) > 100  # the walk reached every command
    assert [f"{path} {p.name}" for path, p in params if not getattr(p, "help", None)] == []
    assert [path for path, c in commands if not (c.help or c.short_help)] == []


def test_missing_settings_name_the_cli_option_not_the_sdk_argument(live: Live) -> None:
    no_key = bare("meters", "list", env={"USAGEKIT_URL": live.url})
    assert no_key.returncode == 2
    assert "--api-key" in no_key.stderr and "USAGEKIT_API_KEY" in no_key.stderr
    assert "api_key=" not in no_key.stderr and "Traceback" not in no_key.stderr
    no_url = bare("meters", "list", env={"USAGEKIT_API_KEY": ADMIN_KEY})
    assert no_url.returncode == 2
    assert "--url" in no_url.stderr and "url=" not in no_url.stderr.replace("--url", "")


def test_events_json_has_a_time_or_null_for_voided(live: Live) -> None:
    run(live, "send", "-", stdin=ndjson(jobs(3, prefix="vj")))
    run(live, "void", "vj-1", "--source", "slurm")
    listed = orjson.loads(run(live, "events", "--limit", "500", "-f", "json").stdout)
    by_id = {e["id"]: e for e in listed if e["id"].startswith("vj-")}
    assert by_id["vj-0"]["voided_at"] is None
    assert by_id["vj-1"]["voided_at"].startswith("20")  # an RFC 3339 time
    assert "voided" not in by_id["vj-0"]  # no column of empty strings beside it


def test_voiding_again_says_already_voided_with_its_time(live: Live) -> None:
    run(live, "send", "-", stdin=ndjson(jobs(2, prefix="av")))
    first = run(live, "void", "av-0", "--source", "slurm")
    assert "voided 1" in first.stderr
    again = run(live, "void", "av-0", "av-1", "--source", "slurm")  # idempotent: exit 0
    assert "voided 1" in again.stderr
    assert "already voided" in again.stderr and "av-0" in again.stderr
    listed = orjson.loads(run(live, "events", "--limit", "500", "-f", "json").stdout)
    when = next(e["voided_at"] for e in listed if e["id"] == "av-0")
    assert when in again.stderr
    assert "not found" not in again.stderr


def _code(live: Live, *args: str, key: str = ADMIN_KEY, **kw: Any) -> int:
    env = {**os.environ, "USAGEKIT_URL": live.url, "USAGEKIT_API_KEY": key, **kw.get("env", {})}
    done = subprocess.run(
        [USAGEKIT, *args], capture_output=True, text=True, env=env, timeout=60,
        input=kw.get("stdin"),
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode


@pytest.mark.slow
def test_exit_codes_follow_the_readme_table(live: Live, tmp_path: Path) -> None:
    """0 done; 1 done in part; 2 nothing done (bad command line, the request failed)."""
    good = tmp_path / "good.ndjson"
    good.write_bytes(ndjson(jobs(2, prefix="ec")))
    mixed = tmp_path / "mixed.ndjson"
    mixed.write_bytes(ndjson(jobs(1, prefix="ec2")) + b'{"id": "x"}\n')
    unreachable = f"http://127.0.0.1:{free_port()}"
    cases: list[tuple[int, tuple[str, ...], dict[str, Any]]] = [
        (0, ("send", str(good)), {}),
        (0, ("meters", "list"), {}),
        (0, ("void", "ec-0", "--source", "slurm"), {}),
        (0, ("void", "ec-0", "--source", "slurm"), {}),  # already voided: still done
        (1, ("send", str(mixed)), {}),  # some records refused
        (1, ("void", "ec-1", "no-such-id", "--source", "slurm"), {}),  # some ids not found
        (1, ("meters", "delete", "cpu_nope"), {"stdin": "n\n"}),  # declined at the prompt
        (2, ("send", str(tmp_path / "no-such-file.ndjson")), {}),
        (2, ("export", str(tmp_path / "no-dir" / "x.csv")), {}),
        (2, ("query", "cpu", "--bogus-option"), {}),
        (2, ("query", "cpu", "--filter", "novalue"), {}),
        (2, ("meters", "show", "no-such-meter"), {}),  # 404
        (2, ("meters", "list"), {"env": {"USAGEKIT_URL": unreachable}}),
        (2, ("meters", "list"), {"env": {"USAGEKIT_API_KEY": "uk_wrong_key_0123456789"}}),
    ]
    got = [(_code(live, *args, **kw), args) for _, args, kw in cases]
    assert got == [(code, args) for code, args, _ in cases]


def test_send_reads_input_format_and_keeps_the_old_spelling(live: Live, tmp_path: Path) -> None:
    events = jobs(4, prefix="if")
    odd = tmp_path / "events.txt"  # a name that says nothing about its format
    odd.write_bytes(orjson.dumps(events[:2], option=orjson.OPT_UTC_Z))
    done = run(live, "send", str(odd), "--input-format", "json")
    assert "2 accepted" in done.stderr
    odd.write_bytes(orjson.dumps(events[2:], option=orjson.OPT_UTC_Z))
    old = run(live, "send", str(odd), "--format", "json")  # the old spelling still works
    assert "2 accepted" in old.stderr
    bad = run(live, "send", str(odd), "--input-format", "xml", code=2)
    assert "--input-format" in bad.stderr


@pytest.mark.slow
def test_query_bounds_in_every_form_match_rfc3339(live: Live) -> None:
    run(live, "meters", "create", "ctime", "--event-type", "ctime", "--aggregation", "count")
    from datetime import UTC, datetime, timedelta

    first = datetime(2026, 10, 31, tzinfo=UTC)
    events = [
        {"id": f"ct-{i}", "source": "s", "type": "ctime", "subject": "a",
         "time": first + timedelta(hours=i, minutes=5), "data": {}}
        for i in range(72)
    ]  # fmt: skip
    run(live, "send", "-", stdin=ndjson(events))

    def rows(*bounds: str) -> Any:
        args = ("query", "ctime", "--granularity", "hour", "--tz", "Asia/Kolkata", "-f", "json")
        return orjson.loads(run(live, *args, *bounds).stdout)

    expected = rows("--from", "2026-11-01T00:00:00+05:30", "--to", "2026-11-02T08:00:00+05:30")
    assert sum(r["value"] or 0 for r in expected) > 0
    assert rows("--from", "2026-11-01", "--to", "2026-11-02T08:00") == expected
    ms = int(datetime(2026, 10, 31, 18, 30, tzinfo=UTC).timestamp() * 1000)
    assert rows("--from", str(ms), "--to", "2026-11-02T02:30:00Z") == expected


def _demo_keys(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    lines = [line.split() for line in done.stdout.splitlines() if line.startswith("  ")]
    return {words[0]: words[-1] for words in lines}


@pytest.mark.slow
def test_demo_reuses_its_keys(live: Live, tmp_path: Path) -> None:
    kept = tmp_path / "state" / "demo-keys.json"
    args = ("demo", "--days", "1", "--scale", "0.02", "--keys-file", str(kept))
    # a meter of the user's own under a demo slug: kept, and the demo says how it differs
    run(live, "meters", "create", "cpu_time", "--event-type", "job", "--aggregation", "sum",
        "--value-property", "cpu_time_ms", "--dimension", "project=project")  # fmt: skip
    done = run(live, *args)
    assert "meter cpu_time exists with another definition" in done.stderr
    assert "partition" in done.stderr
    first = _demo_keys(done)
    assert first["acme-hpc"].startswith("uk_") and kept.exists()
    assert kept.stat().st_mode & 0o077 == 0  # secrets: the owner's only
    second = _demo_keys(run(live, *args))
    assert second == first
    for tenant in ("acme-hpc", "globex-maps", "initech-ai"):
        keys = orjson.loads(run(live, "keys", "list", "-f", "json", key=first[tenant]).stdout)
        assert len(keys) == 1, (tenant, keys)  # no new admin key on the second run
    # A keys file from another database (keys unknown here): new keys, and the file is updated.
    kept.write_text(kept.read_text().replace(first["acme-hpc"], "uk_gone_0123456789abcdef"))
    third = _demo_keys(run(live, *args))
    assert third["acme-hpc"] not in (first["acme-hpc"], "uk_gone_0123456789abcdef")
    assert third["acme-hpc"] in kept.read_text()
    assert third["globex-maps"] == first["globex-maps"]


@pytest.mark.slow
def test_meters_list_shows_ones_own_and_all_shows_the_presets(live: Live) -> None:
    from usagekit.core.presets import PRESETS

    run(live, "tenants", "create", "one-meter")
    key = run(live, "keys", "create", "--role", "admin", "--tenant", "one-meter").stdout.strip()
    run(live, "meters", "create", "cpu_time", "--event-type", "job", "--aggregation", "sum",
        "--value-property", "cpu_time_ms", key=key)  # fmt: skip
    run(live, "send", "-", stdin=ndjson(jobs(3, prefix="om")), key=key)
    own = orjson.loads(run(live, "meters", "list", "-f", "json", key=key).stdout)
    assert [m["slug"] for m in own] == ["cpu_time"]
    every = orjson.loads(run(live, "meters", "list", "--all", "-f", "json", key=key).stdout)
    assert len(every) == 1 + len(PRESETS)
    table = run(live, "meters", "list", key=key).stdout
    assert "cpu_time" in table and "elevate" not in table
    totals = orjson.loads(run(live, "summary", "-f", "json", key=key).stdout)
    assert [t["meter"] for t in totals] == ["cpu_time"]
