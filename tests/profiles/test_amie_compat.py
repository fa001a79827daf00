"""usagekit.profiles.amie.compat (usagekit.compat.amie) against `usagekit serve`: chunked sends,
Storage, clear, status, summary."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_KEY
from tests.live import USAGEKIT, Live, serve
from tests.profiles.amie_data import Oracle, adjustments, compute, storage
from usagekit.profiles.amie.compat import (
    CHUNK_BYTES,
    AdjustmentUsageRecord,
    ComputeUsageRecord,
    StorageUsageRecord,
    UsageClient,
    UsageMessage,
    UsageMessageException,
    UsageRecord,
    UsageResponseError,
)

PROJECTS = ["TG-X1", "TG-X2", "TG-X3"]
USERS = ["ann", "ben", "cat"]
GHOST = "ghost"  # not a registered user: records of this user fail processing


@pytest.fixture
def live(db_url: str, tmp_path: Path) -> Iterator[Live]:
    with serve(db_url, tmp_path) as server:
        yield server


class Sizes(httpx.HTTPTransport):
    """The real transport, noting the size of each request body it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.posts.append(len(request.read()))
        return super().handle_request(request)


def records(kind: str, items: list[dict[str, Any]]) -> list[UsageRecord]:
    cls = {"Compute": ComputeUsageRecord, "Storage": StorageUsageRecord}.get(kind)
    return [(cls or AdjustmentUsageRecord).from_dict(d) for d in items]


def test_compat_client_against_usagekit(live: Live) -> None:
    with live.client() as root:
        root.post("/v1/tenants", json={"name": "NCSA"})
        admin_key = root.post("/v1/keys", json={"tenant": "NCSA", "role": "admin"}).json()["key"]
        key = root.post("/v1/keys", json={"tenant": "NCSA", "role": "ingest"}).json()["key"]
    with live.client(admin_key) as admin:
        assert admin.post("/v1/registry/users", json={"names": USERS}).status_code == 200
    users = [*USERS, GHOST]
    jobs = compute(6000, 11, "ncsa", PROJECTS, users)
    disks = storage(150, 12, "ncsa", PROJECTS, users)
    adjust = adjustments(48, 13, "ncsa", PROJECTS, users)
    oracle = Oracle(registry={"Username": set(USERS)})
    sizes = Sizes()
    url = f"{live.url}/amie/"
    with UsageClient(site_name="NCSA", api_key=key, usage_url=url, transport=sizes) as client:
        replies = client.send(records("Compute", jobs))
        oracle.send("Compute", jobs)
        assert sum(sizes.posts) > 1024 * 1024 and len(replies) == len(sizes.posts) >= 2
        assert max(sizes.posts) <= CHUNK_BYTES
        assert sum(r.loaded_record_count for r in replies) == sum(
            1 for _, r in oracle.loaded.values()
        )
        assert sum(r.failed_record_count for r in replies) == len(oracle.failed)
        # Storage works (upstream's as_dict cannot), mixed lists go one message per type.
        mixed: list[UsageRecord] = [*records("Storage", disks), *records("Adjustment", adjust)]
        replies = client.send(mixed)
        oracle.send("Storage", disks)
        oracle.send("Adjustment", adjust)
        assert [r.failed_records for r in replies] == [[], []]
        again = client.send(UsageMessage(records("Storage", disks[:30])))
        assert again[0].duplicate_record_count + again[0].failed_record_count == 30
        bad = StorageUsageRecord.from_dict({**disks[0], "LocalRecordID": "bad", "Charge": "x"})
        good = StorageUsageRecord.from_dict({**disks[1], "LocalRecordID": "st-extra"})
        [reply] = client.send([bad, good])
        oracle.send("Storage", [good.as_dict()])
        assert [e.record.local_record_id for e in reply.failed_records if e.record] == ["bad"]
        assert "Charge" in reply.failed_records[0].error

        summary = client.summary()
        want = oracle.summary()
        assert {
            (r.local_project_id, r.resource): {
                "Compute": r.compute,
                "Storage": r.storage,
                "Adjustment": r.adjustment,
                "TotalCharge": r.total_charge,
            }
            for r in summary
        } == want
        assert any(row["Adjustment"] < 0 for row in want.values())  # credits count negative
        status = client.status()
        assert {
            r.resource: {
                "LoadedRecordCount": r.loaded_record_count,
                "FailedJobCount": r.failed_job_count,
                "TotalCharge": r.total_charge,
            }
            for r in status.resources
        } == (oracle.status())
        kinds = {e.message.usage_type for r in status.resources for e in r.errors}
        assert kinds == {"Compute", "Storage", "Adjustment"}
        assert all(GHOST in e.error for r in status.resources for e in r.errors)

        failed = client.get_failed_records().failed_records
        assert sorted(
            (e.record.resource, e.record.local_record_id) for e in failed if e.record
        ) == (sorted(oracle.failed))
        assert {e.usage_type for e in failed} == {"Compute", "Storage", "Adjustment"}
        storage_failures = [e for e in failed if e.usage_type == "Storage"]
        assert client.clear_failed_records(storage_failures[:3]) is True
        assert client.clear_failed_records([e.failed_record_id for e in storage_failures[3:]])
        for e in storage_failures:
            del oracle.failed[(e.record.resource, e.record.local_record_id)]  # type: ignore[union-attr]
        left = client.get_failed_records().failed_records
        assert len(left) == len(oracle.failed) and all(e.usage_type != "Storage" for e in left)
        assert {r.resource: r.failed_job_count for r in client.status().resources} == {
            r: v["FailedJobCount"] for r, v in oracle.status().items()
        }
        assert client.summary().as_dict() == summary.as_dict()  # clearing moves no charge

    for site, secret in (("NCSA", "uk_wrong_key_0123456789"), ("PSC", key)):
        with UsageClient(site, secret, usage_url=url) as other:
            with pytest.raises(UsageResponseError) as caught:
                other.status()
            assert caught.value.status_code == 401


def test_compat_messages_and_records(capsys: pytest.CaptureFixture[str]) -> None:
    [job] = compute(1, 21, "m", PROJECTS, USERS)
    [disk] = storage(1, 22, "m", PROJECTS, USERS)
    [credit] = adjustments(1, 23, "m", PROJECTS, USERS)
    message = UsageMessage.from_dict({"UsageType": "Compute", "Records": [job]})
    assert message.as_dict()["Records"][0] == job
    assert json.loads(message.json()) == {"UsageType": "Compute", "Records": [job]}
    message.pretty_print()
    assert json.loads(capsys.readouterr().out)["UsageType"] == "Compute"
    assert StorageUsageRecord.from_dict(disk).as_dict() == disk
    assert AdjustmentUsageRecord.from_dict(credit).as_dict() == credit
    parent = ComputeUsageRecord.from_dict({**job, "ParentRecordID": ["p-1"]})
    assert parent.as_dict()["ParentRecordID"] == "p-1"
    with pytest.raises(UsageMessageException):
        UsageMessage([ComputeUsageRecord.from_dict(job), StorageUsageRecord.from_dict(disk)])
    with pytest.raises(ValueError, match="Adjustment type"):
        AdjustmentUsageRecord.from_dict({**credit, "AdjustmentType": "gift"})


@pytest.mark.slow
def test_registry_cli(live: Live) -> None:
    """`usagekit registry` add, list, retry and remove, through the console script."""
    env = {**os.environ, "USAGEKIT_URL": live.url, "USAGEKIT_API_KEY": ADMIN_KEY}

    def cli(*args: str, code: int = 0) -> str:
        done = subprocess.run(
            [USAGEKIT, "registry", *args], capture_output=True, text=True, env=env, timeout=60
        )
        assert done.returncode == code, (done.stdout, done.stderr)
        return done.stdout + done.stderr

    assert "added 2 projects" in cli("add", "projects", "TG-X1", "TG-X2")
    assert "added 0 projects (1 already there)" in cli("add", "projects", "TG-X1")
    rows = json.loads(cli("list", "--format", "json"))
    assert rows == [{"kind": "projects", "name": "TG-X1"}, {"kind": "projects", "name": "TG-X2"}]
    jobs = compute(20, 31, "cli", [*PROJECTS[:2], "TG-X3"], USERS)
    with UsageClient("default", ADMIN_KEY, usage_url=f"{live.url}/amie/") as client:
        [reply] = client.send(records("Compute", jobs))
    stray = sum(1 for j in jobs if j["LocalProjectID"] == "TG-X3")
    assert reply.failed_record_count == stray > 0
    assert f"retried {stray}: 0 loaded, {stray} still failing" in cli("retry", code=1)
    cli("add", "projects", "TG-X3")
    assert f"retried {stray}: {stray} loaded, 0 still failing" in cli("retry")
    assert "removed 1 projects" in cli("remove", "projects", "TG-X2", "TG-NONE")
    with UsageClient("default", ADMIN_KEY, usage_url=f"{live.url}/amie/") as client:
        assert client.get_failed_records().failed_records == []
        loaded = sum(r.loaded_record_count for r in client.status().resources)
    assert loaded == len(jobs)
