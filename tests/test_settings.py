"""Settings the server cannot run with are refused at startup: one clear line, exit code 2."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.live import USAGEKIT, free_port
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


def test_settings_check_every_number() -> None:
    with pytest.raises(SettingsError, match="--body-limit"):
        Settings(body_limit=10)
    with pytest.raises(SettingsError, match="--body-limit"):
        Settings(body_limit=2**40)
    with pytest.raises(SettingsError, match="--rate-limit"):
        Settings(rate_limit=float("nan"))
    with pytest.raises(SettingsError, match="--auth-failure-limit"):
        Settings(auth_failure_limit=-1)
    assert Settings(rate_limit=0, auth_failure_limit=0, body_limit=1024).body_limit == 1024


def test_from_env_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USAGEKIT_BODY_LIMIT", "lots")
    with pytest.raises(SettingsError, match="USAGEKIT_BODY_LIMIT"):
        Settings.from_env()
    monkeypatch.setenv("USAGEKIT_BODY_LIMIT", "4096")
    monkeypatch.setenv("USAGEKIT_RATE_LIMIT", "2.5")
    got = Settings.from_env()
    assert (got.body_limit, got.rate_limit) == (4096, 2.5)
    for name, value in got.as_env().items():
        monkeypatch.setenv(name, value)
    assert Settings.from_env() == got  # what workers rebuild from the environment
