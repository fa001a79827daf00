"""`usagekit limits` through the real console script against a live server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.client.test_cli import ndjson, run
from tests.live import Live, serve


@pytest.fixture(scope="module")
def live(module_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("cli-limits")
    with serve(module_db, tmp) as server:
        yield server


@pytest.mark.slow
def test_limits_from_create_to_delete(live: Live) -> None:
    run(live, "meters", "create", "lim_cpu", "--event-type", "lim_job", "--aggregation", "sum",
        "--value-property", "v", "--dimension", "region=region")  # fmt: skip
    sent = [
        {
            "id": f"l{i}",
            "type": "lim_job",
            "subject": "ann",
            "time": "2026-05-10T12:00:00Z",
            "data": {"v": v, "region": r},
        }
        for i, (v, r) in enumerate([(9223372036854775807, "eu"), ("0.5", "eu"), (4, "us")])
    ]
    run(live, "send", "-", stdin=ndjson(sent))  # fmt: skip
    made = run(live, "limits", "create", "lim_plan", "--meter", "lim_cpu", "--period", "month",
               "--limit", "9223372036854775807.25", "--threshold", "50", "--threshold", "100",
               "--filter", "region=eu", "--tz", "Asia/Kathmandu")  # fmt: skip
    assert "created limit lim_plan" in made.stderr
    listed = json.loads(run(live, "limits", "list", "-f", "json").stdout)
    assert [(x["slug"], x["filter"]) for x in listed] == [("lim_plan", {"region": ["eu"]})]
    at = ["--at", "2026-05-20T00:00:00Z"]
    status = run(live, "limits", "status", "lim_plan", "--subject", "ann", *at, "-f", "json")
    [got] = json.loads(status.stdout, parse_float=Decimal)
    assert got["usage"] == Decimal("9223372036854775807.5")  # the us event is filtered out
    assert got["has_access"] is False and got["remaining"] == 0
    assert got["period_start"].startswith("2026-05-01T00:00:00+05:45")
    run(live, "limits", "update", "lim_plan", "--filter", "region=us", "--limit", "4.5")
    every = run(live, "limits", "status", "--subject", "ann", *at, "-f", "json").stdout
    assert [(s["usage"], s["has_access"]) for s in json.loads(every)] == [(4, True)]
    table = run(live, "limits", "show", "lim_plan").stdout
    assert "lim_cpu" in table and "Asia/Kathmandu" in table
    assert "lim_plan" in run(live, "limits", "status", "lim_plan", "--subject", "ann").stdout
    run(live, "limits", "status", "lim_plan", code=2)  # 400: the limit is per subject
    run(live, "limits", "delete", "lim_plan", "--yes")
    assert json.loads(run(live, "limits", "list", "-f", "json").stdout) == []
