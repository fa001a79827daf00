"""Several `usagekit serve` processes on one PostgreSQL database: exact dedup and totals.

Without the writers' advisory lock (store.engine) this fails: two processes pick
the same sequence numbers and one batch errors.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import new_database
from tests.live import Live, serve

T0 = 1793577600000  # 2026-11-02T00:00:00Z
SERVERS = 4


@pytest.fixture
def pg_db(tmp_path: Path) -> Iterator[str]:
    """A private, empty schema: nothing else writes there while the servers run."""
    with new_database("postgresql", tmp_path) as url:
        yield url


def pool(n: int) -> list[dict[str, Any]]:
    rng = random.Random(3)
    return [
        {"id": f"e{i}", "source": "s", "type": "job", "subject": f"u{i % 17}",
         "time": T0 + rng.randrange(3 * 86_400_000),
         "data": {"cpu": rng.randint(1, 1000), "project": f"p{i % 5}"}}
        for i in range(n)
    ]  # fmt: skip


@pytest.mark.slow
def test_four_servers_one_database(pg_db: str, tmp_path: Path) -> None:
    events = pool(3000)
    with ExitStack() as stack:
        lives: list[Live] = [stack.enter_context(serve(pg_db, tmp_path)) for _ in range(SERVERS)]
        with lives[0].client() as admin:
            meter = {"slug": "cpu", "event_type": "job", "aggregation": "sum",
                     "value_property": "cpu", "dimensions": {"project": "project"}}  # fmt: skip
            assert admin.post("/v1/meters", json=meter).status_code == 201
        totals: Counter[str] = Counter()
        lock = threading.Lock()
        errors: list[str] = []

        def client_of(n: int) -> None:
            rng = random.Random(n)
            with lives[n].client() as c:
                for _ in range(12):
                    batch = rng.sample(events, 250)  # overlaps the other servers' batches
                    reply = c.post("/v1/events", json=batch)
                    if reply.status_code != 202:
                        errors.append(reply.text)
                        return
                    got = reply.json()
                    with lock:
                        totals.update(accepted=got["accepted"], duplicates=got["duplicates"],
                                      conflicts=got["conflicts"], sent=len(batch))  # fmt: skip

        threads = [threading.Thread(target=client_of, args=(n,)) for n in range(SERVERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with lives[-1].client() as reader:
            params = {"from": "2026-11-01T00:00:00Z", "to": "2026-11-10T00:00:00Z",
                      "group_by": "project", "granularity": "day"}  # fmt: skip
            rows = reader.get("/v1/meters/cpu/query", params=params).json()["data"]

    stored_ids: set[str] = set()
    for rng_seed in range(SERVERS):
        rng = random.Random(rng_seed)
        for _ in range(12):
            stored_ids.update(e["id"] for e in rng.sample(events, 250))
    expected: Counter[str] = Counter()
    for e in events:
        if e["id"] in stored_ids:
            expected[e["data"]["project"]] += e["data"]["cpu"]
    got_totals: Counter[str] = Counter()
    for row in rows:
        got_totals[row["group"]["project"]] += row["value"]
    assert got_totals == expected
    assert totals["accepted"] == len(stored_ids)  # each id stored exactly once
    assert totals["accepted"] + totals["duplicates"] == totals["sent"]
    assert totals["conflicts"] == 0


@pytest.mark.slow
def test_serve_with_workers(pg_db: str, tmp_path: Path) -> None:
    """`usagekit serve --workers 3`: one port, several processes, one set of presets and keys."""
    events = pool(600)
    with serve(pg_db, tmp_path, "--workers", "3") as live, live.client() as c:
        accepted = 0
        for start in range(0, 600, 100):
            reply = c.post("/v1/events", json=events[start : start + 150])  # overlapping
            assert reply.status_code == 202, reply.text
            accepted += reply.json()["accepted"]
        assert accepted == 600
        listed = c.get("/v1/meters", params={"include_presets": "true"}).json()
        assert len([m for m in listed if m["profile"]]) == len({m["slug"] for m in listed})
        assert len(c.get("/v1/keys").json()) == 1  # one bootstrap key, not one per worker
        window = {"from": "2026-11-01T00:00:00Z", "to": "2026-11-10T00:00:00Z"}
        summary = c.get("/v1/usage/summary", params=window).json()
        assert summary["data"] == []  # no user meters; idle presets are left out
