"""Settings the server cannot run with are refused at startup: one clear line, exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.live import USAGEKIT, free_port, serve
from tests.marks import first_fast
from usagekit.server.settings import Settings, SettingsError

BAD_FLAGS = [
    (["--rate-limit", "-1"], "--rate-limit"),
    (["--rate-limit", "nan"], "--rate-limit"),
    (["--rate-limit", "inf"], "--rate-limit"),
    (["--body-limit", "0"], "--body-limit"),
    (["--body-limit", "-5"], "--body-limit"),
    (["--body-limit", "100"], "--body-limit"),
    (["--auth-failure-limit", "nan"], "--auth-failure-limit"),
    (["--rate-burst", "-3"], "--rate-burst"),
    (["--writer", "fork"], "--writer"),
    (["--log-format", "xml"], "--log-format"),
    (["--log-level", "loud"], "--log-level"),
    (["--fixed-now", "2026-11-15T12:00:00"], "--fixed-now"),
]
BAD_ENV = [
    ({"USAGEKIT_RATE_LIMIT": "nan"}, "USAGEKIT_RATE_LIMIT"),
    ({"USAGEKIT_RATE_LIMIT": "-0.5"}, "USAGEKIT_RATE_LIMIT"),
    ({"USAGEKIT_BODY_LIMIT": "0"}, "USAGEKIT_BODY_LIMIT"),
    ({"USAGEKIT_BOOTSTRAP_KEY": "short"}, "USAGEKIT_BOOTSTRAP_KEY"),
    ({"USAGEKIT_BOOTSTRAP_KEY": "x" * 600}, "USAGEKIT_BOOTSTRAP_KEY"),
    ({"USAGEKIT_BOOTSTRAP_KEY": "uk_has a space in it_0123"}, "USAGEKIT_BOOTSTRAP_KEY"),
    ({"USAGEKIT_KEY_CACHE_SECONDS": "soon"}, "USAGEKIT_KEY_CACHE_SECONDS"),
    ({"USAGEKIT_SECRET": "tooshort"}, "USAGEKIT_SECRET"),
    ({"USAGEKIT_LOG_FORMAT": "xml"}, "USAGEKIT_LOG_FORMAT"),
]


def start(
    tmp: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`usagekit serve` with these settings; a server that starts is a failure (timeout)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("USAGEKIT_")} | (env or {})
    command = [USAGEKIT, "serve", "--db", str(tmp / "s.db"), "--port", str(free_port()), *args]
    return subprocess.run(command, capture_output=True, text=True, env=full, timeout=20, cwd=tmp)


# Each case starts a process: the quick loop tries one, the full suite all.
@pytest.mark.parametrize(
    ("args", "named"), first_fast(BAD_FLAGS), ids=[" ".join(a) for a, _ in BAD_FLAGS]
)
def test_bad_flags_are_refused_with_one_line(tmp_path: Path, args: list[str], named: str) -> None:
    done = start(tmp_path, *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert named in done.stderr
    assert not (tmp_path / "s.db").exists()  # refused before anything was made


@pytest.mark.parametrize(("env", "named"), first_fast(BAD_ENV), ids=[n for _, n in BAD_ENV])
def test_bad_environment_is_refused_with_one_line(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    done = start(tmp_path, env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) <= 2 and named in done.stderr, done.stderr
    for value in env.values():
        if len(value) >= 8:
            assert value not in done.stderr  # secrets are not echoed


BAD_FILES = [
    ("rate_limit = -1\n", "rate_limit in"),
    ("body_limit = 100\n", "body_limit in"),
    ('writer = "fork"\n', "writer in"),
    ("rate_limt = 1\n", "'rate_limt'"),  # unknown keys are refused, named
    ("port = 8200\nport = 8201\n", "not valid TOML"),
]


@pytest.mark.parametrize(("text", "named"), first_fast(BAD_FILES), ids=[n for _, n in BAD_FILES])
def test_bad_config_file_is_refused_naming_the_key(tmp_path: Path, text: str, named: str) -> None:
    config = tmp_path / "usagekit.toml"
    config.write_text(text)
    done = start(tmp_path, env={"USAGEKIT_CONFIG": str(config)})
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and named in lines[0] and str(config) in lines[0], done.stderr
    assert not (tmp_path / "s.db").exists()


def test_settings_check_every_number() -> None:
    with pytest.raises(SettingsError, match="--body-limit"):
        Settings.load({"body_limit": 10})
    with pytest.raises(SettingsError, match="--body-limit"):
        Settings.load({"body_limit": 2**40})
    with pytest.raises(SettingsError, match="--rate-limit"):
        Settings.load({"rate_limit": float("nan")})
    with pytest.raises(SettingsError, match="--auth-failure-limit"):
        Settings.load({"auth_failure_limit": -1})
    with pytest.raises(SettingsError, match="--port"):
        Settings.load({"port": True})
    got = Settings.load({"rate_limit": 0, "auth_failure_limit": 0, "body_limit": 1024})
    assert got.body_limit == 1024


def test_from_env_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USAGEKIT_BODY_LIMIT", "lots")
    with pytest.raises(SettingsError, match="USAGEKIT_BODY_LIMIT"):
        Settings.from_env()
    monkeypatch.setenv("USAGEKIT_BODY_LIMIT", "4096")
    monkeypatch.setenv("USAGEKIT_RATE_LIMIT", "2.5")
    monkeypatch.setenv("USAGEKIT_METRICS", "false")
    got = Settings.from_env()
    assert (got.body_limit, got.rate_limit, got.metrics) == (4096, 2.5, False)
    for name, value in got.as_env().items():
        monkeypatch.setenv(name, value)
    # What workers rebuild from the environment.
    assert Settings.from_env().model_dump() == got.model_dump()


def test_flags_beat_environment_beat_file_beat_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("USAGEKIT_"):
            monkeypatch.delenv(name)
    config = tmp_path / "usagekit.toml"
    config.write_text(
        'port = 9001\nrate_limit = 5\nwriter = "thread"\nhost = "0.0.0.0"\nmetrics = false\n'
    )
    monkeypatch.setenv("USAGEKIT_CONFIG", str(config))
    monkeypatch.setenv("USAGEKIT_RATE_LIMIT", "7")
    monkeypatch.setenv("USAGEKIT_PORT", "9002")
    monkeypatch.setenv("USAGEKIT_SQLITE_SYNCHRONOUS", "normal")
    got = Settings.load({"port": 9003, "db": None})
    expected = {
        "port": (9003, "flag"),
        "rate_limit": (7.0, "env"),
        "sqlite_synchronous": ("NORMAL", "env"),
        "writer": ("thread", "file"),
        "host": ("0.0.0.0", "file"),
        "metrics": (False, "file"),
        "db": ("usagekit.db", "default"),
        "log_format": ("logfmt", "default"),
    }
    assert {k: (getattr(got, k), got.source(k)) for k in expected} == expected
    assert got.config_file == str(config)
    # An explicit --config beats USAGEKIT_CONFIG.
    other = tmp_path / "other.toml"
    other.write_text('host = "127.0.0.3"\n')
    assert Settings.load(config=str(other)).host == "127.0.0.3"
    other.write_text('rate_table = "/tmp/x"\n')  # internal: made by serve for its workers
    with pytest.raises(SettingsError, match="unknown setting 'rate_table'"):
        Settings.load(config=str(other))


def test_config_command_shows_sources_and_masks_secrets(tmp_path: Path) -> None:
    config = tmp_path / "usagekit.toml"
    secret = "file-secret-0123456789-0123456789-abc"
    config.write_text(f'port = 9001\nwriter = "thread"\nsecret = "{secret}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("USAGEKIT_")} | {
        "USAGEKIT_DB": "postgresql://usagekit:hunter2hunter2@db.example:5432/usage",
        "USAGEKIT_BOOTSTRAP_KEY": "uk_bootstrap_key_0123456789",
        "USAGEKIT_HOST": "0.0.0.0",
        "USAGEKIT_WRITER": "process",
    }
    command = [USAGEKIT, "config", "--config", str(config), "--rate-limit", "3", "-f", "json"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=20)
    assert done.returncode == 0, done.stderr
    rows = {row["setting"]: row for row in json.loads(done.stdout)}
    shown = {name: (row["value"], row["source"].split()[0]) for name, row in rows.items()}
    assert shown["port"] == ("9001", "file")
    assert shown["host"] == ("0.0.0.0", "env")
    assert shown["writer"] == ("process", "env")  # the environment beats the file
    assert shown["rate_limit"] == ("3.0", "flag")
    assert shown["body_limit"] == ("1048576", "default")
    assert shown["db"] == ("postgresql://usagekit:***@db.example:5432/usage", "env")
    assert shown["secret"][1] == "file" and shown["bootstrap_key"][1] == "env"
    for hidden in ("hunter2hunter2", "uk_bootstrap_key_0123456789", secret):
        assert hidden not in done.stdout + done.stderr
    assert rows["port"]["env"] == "USAGEKIT_PORT" and rows["port"]["flag"] == "--port"
    assert set(rows) == set(Settings.model_fields) - {"rate_table"}


@pytest.mark.slow
def test_writer_setting_from_the_environment_is_used(tmp_path: Path) -> None:
    """USAGEKIT_WRITER=thread runs no writer process (it was documented but ignored)."""
    children = {}
    for writer in ("thread", "process"):
        db = str(tmp_path / f"{writer}.db")
        with serve(db, tmp_path, env={"USAGEKIT_WRITER": writer}) as live:
            pid = live.process.pid
            children[writer] = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    assert children["thread"] == [] and children["process"], children


@pytest.mark.slow
def test_workers_run_with_the_config_file_settings(tmp_path: Path) -> None:
    """--workers N: each worker gets every setting, those of the file too."""
    config = tmp_path / "usagekit.toml"
    config.write_text("body_limit = 2048\n")
    db = str(tmp_path / "w.db")
    env = {"USAGEKIT_CONFIG": str(config)}
    with serve(db, tmp_path, "--workers", "2", env=env) as live, live.client() as c:
        answers = {
            c.post("/v1/events", content=b"[" + b" " * 4096 + b"]").status_code for _ in range(8)
        }
        assert answers == {413}
        assert c.get("/v1/meters").status_code == 200
