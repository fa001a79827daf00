"""Meters and a month of events around now, loaded through the API: what the pages show."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

METERS: list[dict[str, Any]] = [
    {"slug": "cpu_time", "event_type": "job", "aggregation": "sum",
     "value_property": "cpu_ms", "dimensions": {"project": "project", "region": "region"},
     "unit": "ms", "description": "CPU time of batch jobs"},
    {"slug": "jobs", "event_type": "job", "aggregation": "count",
     "dimensions": {"project": "project"}},
    {"slug": "active_users", "event_type": "job", "aggregation": "unique_count",
     "dimensions": {"project": "project"}},
    {"slug": "storage_peak", "event_type": "storage", "aggregation": "max",
     "value_property": "gb", "dimensions": {"region": "region"}, "unit": "GB"},
]  # fmt: skip

SUBJECTS = ["alice", "bob", "carol", "dave", "erin"]
PROJECTS = ["apollo", "gemini", "mercury"]
REGIONS = ["eu-west", "us-east"]


def events(now: datetime, n: int = 1500, seed: int = 7) -> list[dict[str, Any]]:
    """Jobs and storage samples spread over the 32 days before `now`."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(n):
        at = now - timedelta(seconds=rng.randrange(32 * 86400))
        when = at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        if i % 5 == 4:
            data: dict[str, Any] = {"gb": rng.randrange(1, 500), "region": rng.choice(REGIONS)}
            out.append({"id": f"s{i}", "source": "nas", "type": "storage",
                        "subject": rng.choice(SUBJECTS), "time": when, "data": data})  # fmt: skip
            continue
        data = {"cpu_ms": rng.randrange(100, 90_000), "project": rng.choice(PROJECTS),
                "region": rng.choice(REGIONS)}  # fmt: skip
        out.append({"id": f"j{i}", "source": "slurm", "type": "job",
                    "subject": rng.choice(SUBJECTS), "time": when, "data": data})  # fmt: skip
    return out


def load(client: httpx.Client, now: datetime | None = None) -> list[dict[str, Any]]:
    """Create the meters, send the events (with a few duplicates and bad records)."""
    now = now or datetime.now(UTC)
    for meter in METERS:
        client.post("/v1/meters", json=meter).raise_for_status()
    sent = events(now)
    for start in range(0, len(sent), 500):
        client.post("/v1/events", json=sent[start : start + 500]).raise_for_status()
    stamp = now.isoformat()
    extra = [
        *sent[:3],  # duplicates
        {"id": "bad-1", "type": "job", "subject": "alice", "time": "yesterday", "data": {}},
        {"id": "bad-2", "type": "job", "subject": "", "time": stamp, "data": {"cpu_ms": 5}},
        {**sent[3], "data": {**sent[3]["data"], "cpu_ms": 1}},  # a conflict
    ]
    client.post("/v1/events", json=extra).raise_for_status()
    return sent
