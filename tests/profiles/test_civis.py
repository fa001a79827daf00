"""Civis: civis.APIClient's `client.usage`, unmodified, against `usagekit serve`."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.live import Live, serve
from tests.profiles.vendor import run_script, vendor_python
from usagekit.core.events import format_time

DAY = 86_400_000
NOW = int(time.time() * 1000)
MONTH = int(datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            .timestamp() * 1000)  # fmt: skip
TODAY_END = NOW - NOW % DAY + DAY


def runs(n: int, seed: int) -> list[dict[str, Any]]:
    """LLM and matching runs: half in the current month (up to now), half in the 40 days before."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        t = (MONTH + rng.randint(0, max(0, NOW - MONTH - 1)) if i % 2
             else MONTH - rng.randint(1, 40 * DAY))  # fmt: skip
        base = {"run_id": 1000 + i, "job_id": 50 + i % 7, "user_id": 7 + i % 5,
                "organization_id": 1 + i % 3, "run_time": rng.randint(1, 900)}  # fmt: skip
        if i % 4 == 3:
            data = {
                **base,
                "num_records": rng.randint(1, 10**6),
                "task": rng.choice(["IDR", "CDM"]),
            }
            kind = "matching_run"
        else:
            tokens = rng.randint(10, 20_000)
            model = rng.choice(["m-small", "m-large"])
            data = {**base, "credits": round(tokens * 0.0004, 4), "input_tokens": tokens,
                    "output_tokens": tokens // 3, "model_id": model}  # fmt: skip
            kind = "llm_run"
        out.append({"id": f"run-{i}", "source": "civis", "type": kind,
                    "subject": str(data["user_id"]), "time": t, "data": data})  # fmt: skip
    return out


@pytest.fixture(scope="module")
def civis_python() -> Path:
    return vendor_python("civis")


@pytest.fixture(scope="module")
def live(module_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("civis")
    with serve(module_db, tmp) as server:
        yield server


def within(e: dict[str, Any], lo: int, hi: int) -> bool:
    return bool(lo <= e["time"] < hi)


@pytest.mark.slow
def test_vendor_client_against_usagekit(live: Live, civis_python: Path) -> None:
    sent = runs(400, 5)
    with live.client() as admin:
        assert admin.post("/v1/events", json=sent).json()["accepted"] == len(sent)
        assert admin.post("/v1/events", json=sent[:40]).json()["duplicates"] == 40
        voided = sent.pop(0)
        admin.post("/v1/events/void", json={"source": "civis", "ids": [voided["id"]]})
        admin.post("/v1/tenants", json={"name": "other"})
        other = admin.post("/v1/keys", json={"tenant": "other", "role": "admin"}).json()["key"]
        with live.client(other) as c:
            c.post("/v1/events", json=runs(60, 6))
        key = admin.post("/v1/keys", json={"role": "read", "name": "civis"}).json()["key"]
    llm = [e for e in sent if e["type"] == "llm_run"]
    matching = [e for e in sent if e["type"] == "matching_run"]
    day = datetime.fromtimestamp((MONTH - 20 * DAY) / 1000, UTC).date()
    asked = {
        "key": key,
        "llm": {"default": {}, "org2": {"org_id": 2},
                "dates": {"start_date": format_time(MONTH - 30 * DAY),
                          "end_date": day.isoformat()}},
        "matching": {"all": {}, "idr": {"task": "IDR", "org_id": 1}},
        "summary": {f"org{o}": {"org_id": o} for o in (1, 2, 3)}
        | {"org1_dates": {"org_id": 1, "start_date": format_time(MONTH - 40 * DAY),
                          "end_date": format_time(MONTH)}},
        "alias": {"org_id": 3},
        "get": [],
    }  # fmt: skip
    env = {"CIVIS_API_ENDPOINT": f"{live.url}/civis/"}
    got = run_script(civis_python, "civis_calls.py", orjson.dumps(asked).decode(), env=env)

    def llm_oracle(lo: int, hi: int, org: int | None = None) -> list[int]:
        return sorted(e["data"]["run_id"] for e in llm if within(e, lo, hi)
                      and org in (None, e["data"]["organization_id"]))  # fmt: skip

    day_end = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000) + DAY
    assert sorted(r["run_id"] for r in got["llm"]["default"]) == llm_oracle(MONTH, TODAY_END)
    assert sorted(r["run_id"] for r in got["llm"]["org2"]) == llm_oracle(MONTH, TODAY_END, 2)
    assert sorted(r["run_id"] for r in got["llm"]["dates"]) == llm_oracle(MONTH - 30 * DAY, day_end)
    assert got["llm"]["default"], "some runs fall in the default range"
    by_run = {e["data"]["run_id"]: e for e in llm}
    for row in got["llm"]["default"]:
        event = by_run[row["run_id"]]
        for field in ("job_id", "user_id", "organization_id", "run_time", "input_tokens",
                      "output_tokens", "model_id"):  # fmt: skip
            assert row[field] == event["data"][field]
        assert row["credits"] == pytest.approx(event["data"]["credits"])
        assert row["run_created_at"] == format_time(event["time"])
        assert isinstance(row["id"], int)
    assert sorted(r["run_id"] for r in got["matching"]["all"]) == sorted(
        e["data"]["run_id"] for e in matching
    )
    assert sorted(r["run_id"] for r in got["matching"]["idr"]) == sorted(
        e["data"]["run_id"] for e in matching
        if e["data"]["task"] == "IDR" and e["data"]["organization_id"] == 1
    )  # fmt: skip

    def credits(org: int, lo: int, hi: int) -> float:
        return sum(e["data"]["credits"] for e in llm
                   if e["data"]["organization_id"] == org and within(e, lo, hi))  # fmt: skip

    for org in (1, 2, 3):
        summary = got["summary"][f"org{org}"]
        assert summary["organization_id"] == org
        assert summary["credits"] == pytest.approx(credits(org, MONTH, TODAY_END), abs=1e-9)
    assert got["summary"]["org1_dates"]["credits"] == pytest.approx(
        credits(1, MONTH - 40 * DAY, MONTH), abs=1e-9
    )
    alias, warned = got["alias"]
    assert alias["credits"] == pytest.approx(credits(3, MONTH, TODAY_END), abs=1e-9)
    assert any("get_llm_organization_summary" in w for w in warned)

    errors = got["errors"]
    assert errors["unknown_id"][0] == 404 and "987654321" in errors["unknown_id"][1]
    assert errors["bad_task"][0] == 400 and "task" in errors["bad_task"][1]
    assert errors["bad_date"][0] == 400 and "start_date" in errors["bad_date"][1]
    assert errors["wrong_key"] is not None and "401" in errors["wrong_key"][1]


@pytest.mark.slow
def test_get_by_id_and_wire_errors(live: Live, civis_python: Path) -> None:
    with live.client() as admin:
        admin.post("/v1/tenants", json={"name": "ids"})
        owner = admin.post("/v1/keys", json={"tenant": "ids", "role": "admin"}).json()["key"]
    sent = runs(40, 9)
    with live.client(owner) as c:
        c.post("/v1/events", json=sent)
    listed = httpx.get(f"{live.url}/civis/usage/llm", auth=(owner, ""),
                       params={"start_date": "2000-01-01"}).json()  # fmt: skip
    ids = [r["id"] for r in listed]
    asked = {"key": owner, "llm": {}, "matching": {}, "summary": {}, "alias": {"org_id": 1},
             "get": ids}  # fmt: skip
    env = {"CIVIS_API_ENDPOINT": f"{live.url}/civis/"}
    got = run_script(civis_python, "civis_calls.py", orjson.dumps(asked).decode(), env=env)
    by_run = {e["data"]["run_id"]: e for e in sent if e["type"] == "llm_run"}
    assert sorted(by_run) == sorted(r["runId"] for r in listed)
    for stat_id in ids:
        row = got["get"][str(stat_id)]
        assert row["id"] == stat_id and row["model_id"] == by_run[row["run_id"]]["data"]["model_id"]
    unauth = httpx.get(f"{live.url}/civis/usage/llm")
    assert unauth.status_code == 401 and "Basic" in unauth.json()["errorDescription"]
    with live.client() as admin:
        ingest = admin.post("/v1/keys", json={"tenant": "ids", "role": "ingest"}).json()["key"]
    denied = httpx.get(f"{live.url}/civis/usage/llm", auth=(ingest, ""))
    assert denied.status_code == 403 and denied.json()["code"] == 403
    bad_id = httpx.get(f"{live.url}/civis/usage/llm/abc", auth=(owner, ""))
    assert bad_id.status_code == 400 and bad_id.json()["error"] == "invalid"


def test_compat_usage(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    from usagekit.compat.civis import APIClient
    from usagekit.errors import AuthenticationError, NotFoundError, ValidationError

    with live.client() as admin:
        admin.post("/v1/tenants", json={"name": "compat"})
        owner = admin.post("/v1/keys", json={"tenant": "compat", "role": "admin"}).json()["key"]
    sent = runs(80, 11)
    with live.client(owner) as c:
        c.post("/v1/events", json=sent)
    llm = [e for e in sent if e["type"] == "llm_run"]
    monkeypatch.setenv("CIVIS_API_ENDPOINT", f"{live.url}/civis/")
    monkeypatch.setenv("CIVIS_API_KEY", owner)
    with APIClient() as client:
        rows = client.usage.list_llm()
        expected = sorted(e["data"]["run_id"] for e in llm if within(e, MONTH, TODAY_END))
        assert sorted(r.run_id for r in rows) == expected
        one = client.usage.get_llm(rows[0].id) if rows else None
        assert one is None or one == rows[0]
        want = sum(e["data"]["credits"] for e in llm
                   if e["data"]["organization_id"] == 2 and within(e, 0, 2**62))  # fmt: skip
        summary = client.usage.get_llm_organization_summary(2, start_date="2000-01-01")
        assert summary.organization_id == 2 and summary.credits == pytest.approx(want, abs=1e-9)
        with pytest.warns(FutureWarning, match="get_llm_organization_summary"):
            alias = client.usage.list_llm_organization_summary(2, start_date="2000-01-01")
        assert alias == summary
        cdm = client.usage.list_matching(task="CDM", start_date="2000-01-01")
        assert sorted(r.run_id for r in cdm) == sorted(
            e["data"]["run_id"] for e in sent
            if e["type"] == "matching_run" and e["data"]["task"] == "CDM"
        )  # fmt: skip
        with pytest.raises(NotFoundError):
            client.usage.get_llm(10**9)
        with pytest.raises(ValidationError, match="task"):
            client.usage.list_matching(task="XYZ")
    with APIClient("uk_wrong_key_0123456789") as wrong, pytest.raises(AuthenticationError):
        wrong.usage.list_llm()
