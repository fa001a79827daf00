"""`usagekit copy`: a SQLite deployment moved to PostgreSQL answers exactly as before."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import ADMIN_KEY
from tests.live import USAGEKIT
from usagekit.server.app import create_app
from usagekit.server.settings import Settings

T0 = 1793577600000  # 2026-11-02T00:00:00Z
WINDOW = {"from": "2026-11-01T00:00:00Z", "to": "2026-11-12T00:00:00Z"}


def answers(db: str, then_send: bool = False) -> tuple[object, object, object, object]:
    settings = Settings(db=db, bootstrap_key=ADMIN_KEY, key_cache_seconds=0, writer="thread")
    with TestClient(create_app(settings)) as c:
        c.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        summary = c.get("/v1/usage/summary", params={**WINDOW, "group_by": "project"}).json()
        users = c.get("/v1/meters/users/query",
                      params={**WINDOW, "aggregation_type": "rolling_7d"}).json()  # fmt: skip
        listed = c.get("/v1/events", params={"limit": 500}).json()["data"]
        failures = c.get("/v1/failures").json()["data"]
        if then_send:  # the copy keeps working: new events get new sequence numbers
            more = [{"id": "new", "source": "s", "type": "job", "subject": "z", "time": T0,
                     "data": {"cpu": 1, "project": "p0"}}]  # fmt: skip
            assert c.post("/v1/events", json=more).json()["accepted"] == 1
    return summary["data"], users["data"], listed, [f["record"] for f in failures]


def test_copy_moves_a_deployment(tmp_path: Path, db_url: str) -> None:
    # db_url is each backend in turn: SQLite -> SQLite and SQLite -> PostgreSQL
    source = str(tmp_path / "src.db")
    settings = Settings(db=source, bootstrap_key=ADMIN_KEY, key_cache_seconds=0, writer="thread")
    with TestClient(create_app(settings)) as c:
        c.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        c.post(
            "/v1/meters",
            json={
                "slug": "cpu",
                "event_type": "job",
                "aggregation": "sum",
                "value_property": "cpu",
                "dimensions": {"project": "project"},
            },
        )
        c.post("/v1/meters", json={"slug": "users", "event_type": "job",
                                   "aggregation": "unique_count"})  # fmt: skip
        events = [{"id": f"e{i}", "source": "s", "type": "job", "subject": f"u{i % 13}",
                   "time": T0 + i * 3_600_000, "data": {"cpu": i, "project": f"p{i % 3}"}}
                  for i in range(200)]  # fmt: skip
        c.post("/v1/events", json=[*events, {"id": "bad"}])
        c.post("/v1/events/void", json={"source": "s", "ids": ["e5", "e6"]})
    before = answers(source)
    done = subprocess.run([USAGEKIT, "copy", "--from", source, "--to", db_url],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "every table's count matches" in done.stdout + done.stderr
    after = answers(db_url, then_send=True)
    assert after[:3] == before[:3] and sorted(map(str, after[3])) == sorted(map(str, before[3]))
    again = subprocess.run([USAGEKIT, "copy", "--from", source, "--to", db_url],
                           capture_output=True, text=True)  # fmt: skip
    assert again.returncode == 1 and "already has data" in again.stdout + again.stderr
