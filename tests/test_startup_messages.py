"""What `usagekit serve` says at start-up about the first admin key, read from a real server's
output: a generated key as a block to save, before uvicorn's lines, with the export line the
CLI and SDK read; a USAGEKIT_BOOTSTRAP_KEY that is not installed, in one clear line."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_KEY
from tests.live import serve


@pytest.mark.parametrize("workers", ["1", pytest.param("2", marks=pytest.mark.slow)])
def test_first_key_is_shown_once_before_uvicorn_with_an_export_line(
    tmp_path: Path, workers: str
) -> None:
    db = str(tmp_path / "first.db")
    no_key = {"USAGEKIT_BOOTSTRAP_KEY": ""}
    args = ("--log-level", "info", "--workers", workers)
    with serve(db, tmp_path, *args, env=no_key) as live:
        log = live.log.read_text()
        exports = re.findall(r"^    export USAGEKIT_API_KEY=(\S+)$", log, re.MULTILINE)
        assert len(exports) == 1, log
        secret = exports[0]
        reply = httpx.get(f"{live.url}/v1/meters", headers={"Authorization": f"Bearer {secret}"})
        assert reply.status_code == 200
    lines = log.splitlines()
    block = next(i for i, line in enumerate(lines) if "shown only this once" in line)
    uvicorn = next(i for i, line in enumerate(lines) if "logger=uvicorn" in line)
    assert block < uvicorn, log
    assert "save" in lines[block].lower() and "admin key key_" in lines[block]

    with serve(db, tmp_path, *args, env=no_key) as live:
        assert secret not in live.log.read_text()  # shown once only


@pytest.mark.slow
def test_bootstrap_key_that_is_not_installed_is_said_in_one_line(
    db_url: str, tmp_path: Path
) -> None:
    with serve(db_url, tmp_path) as live, live.client() as admin:
        reader = admin.post("/v1/keys", json={"role": "read"}).json()
    # A secret that is already another role's key cannot become the admin key.
    with serve(db_url, tmp_path, env={"USAGEKIT_BOOTSTRAP_KEY": reader["key"]}) as live:
        log = live.log.read_text()
        with live.client(reader["key"]) as c:
            assert c.post("/v1/tenants", json={"name": "x"}).status_code == 403
        with live.client(ADMIN_KEY) as c:
            assert c.get("/v1/meters").status_code == 200
    [line] = [line for line in log.splitlines() if "USAGEKIT_BOOTSTRAP_KEY" in line]
    assert "NOT installed" in line and reader["id"] in line and "role read" in line
    assert "usagekit keys create --role admin" in line
    assert reader["key"] not in log
