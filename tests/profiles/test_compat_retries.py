"""Every compat client rides the SDK's transport: a reply lost to a 503 is retried.

Each request reaches a real `usagekit serve`, but the client sees its first reply
replaced by a 503 (Retry-After: 0), as from a restarting gateway: the server did the
work, the client did not learn of it. Each call must still return what a client
that saw no fault gets, and writes sent twice must count once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest

from tests.live import Live, serve
from tests.profiles.amie_data import Oracle, compute
from usagekit.compat.civis import APIClient
from usagekit.compat.elevate import UsageMonitoringService
from usagekit.compat.geobox import AsyncGeoboxClient
from usagekit.compat.launchdarkly import (
    AccountUsageBetaApi,
    ApiClient,
    Configuration,
    SeriesListRep,
)
from usagekit.profiles.amie.compat import ComputeUsageRecord, UsageClient

FAST = {"backoff": 0.01}  # retry delays of milliseconds


def _lost(request: httpx.Request) -> httpx.Response:
    body = orjson.dumps({"error": "gateway restarting"})
    return httpx.Response(503, headers={"Retry-After": "0"}, content=body, request=request)


class Flaky(httpx.HTTPTransport):
    """The real transport; the first reply to each distinct request is lost (a 503)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: Counter[tuple[str, str, bytes]] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        reply = super().handle_request(request)
        key = (request.method, str(request.url), request.read())
        self.seen[key] += 1
        if self.seen[key] > 1:
            return reply
        reply.read()
        reply.close()
        return _lost(request)


class AsyncFlaky(httpx.AsyncHTTPTransport):
    """Flaky, for async clients."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: Counter[tuple[str, str, bytes]] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        reply = await super().handle_async_request(request)
        key = (request.method, str(request.url), await request.aread())
        self.seen[key] += 1
        if self.seen[key] > 1:
            return reply
        await reply.aread()
        await reply.aclose()
        return _lost(request)


def each_sent_twice(seen: Counter[tuple[str, str, bytes]]) -> bool:
    return bool(seen) and set(seen.values()) == {2}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("compat-retries")
    with serve(str(tmp / "usagekit.db"), Path(tmp)) as server:
        yield server


@pytest.fixture(scope="module")
def owner(live: Live) -> dict[str, str]:
    """An admin key of a tenant with a little Civis, Elevate, Geobox and LaunchDarkly usage."""
    t0 = int(datetime(2026, 11, 2, tzinfo=UTC).timestamp() * 1000)
    events = [
        {"id": "llm-1", "type": "llm_run", "subject": "7", "time": t0,
         "data": {"run_id": 1, "job_id": 2, "user_id": 7, "organization_id": 3,
                  "run_time": 1.5, "credits": 0.25, "input_tokens": 10, "output_tokens": 4,
                  "model_id": "m"}},
        {"id": "job-1", "type": "job", "subject": "u", "time": t0,
         "data": {"cpu_time_ms": 1234, "data_transfer_bytes": 99}},
        {"id": "geo-1", "type": "api_request", "subject": "7", "time": t0,
         "data": {"apikey": "key-7", "bytes": 100, "endpoint": "tiles"}},
        {"id": "ld-1", "type": "ld.evaluation", "subject": "u", "time": t0,
         "data": {"projectKey": "web", "environmentKey": "production", "flagKey": "f"}},
    ]  # fmt: skip
    with live.client() as root:
        root.post("/v1/tenants", json={"name": "flaky"})
        made = root.post("/v1/keys", json={"tenant": "flaky", "role": "admin"}).json()
    with live.client(made["key"]) as c:
        assert c.post("/v1/events", json=events).json()["accepted"] == len(events)
    return {"id": made["id"], "key": made["key"]}


def test_civis_client_retries_lost_replies(live: Live, owner: dict[str, str]) -> None:
    flaky = Flaky()
    endpoint = f"{live.url}/civis/"
    with APIClient(owner["key"], endpoint=endpoint, transport=flaky, **FAST) as client:
        got = client.usage.list_llm(start_date="2026-11-01", end_date="2026-11-30")
        summary = client.usage.get_llm_organization_summary(3, start_date="2026-11-01")
    with APIClient(owner["key"], endpoint=endpoint) as plain:
        assert got == plain.usage.list_llm(start_date="2026-11-01", end_date="2026-11-30")
    assert [r.run_id for r in got] == [1] and summary.credits == pytest.approx(0.25)
    assert each_sent_twice(flaky.seen)


def test_elevate_client_retries_the_exchange_and_the_reads(
    live: Live, owner: dict[str, str]
) -> None:
    flaky = Flaky()
    with UsageMonitoringService(live.url, owner["id"], owner["key"], transport=flaky, **FAST) as s:
        total = s.get_usage_summary("CPU_TIME_MS").total_value
    assert total == 1234
    assert each_sent_twice(flaky.seen)
    assert any(path.endswith("/exchange-auth-code") for _, path, _ in flaky.seen)


def test_geobox_client_retries_lost_replies(live: Live, owner: dict[str, str]) -> None:
    async def run(transport: httpx.AsyncBaseTransport | None) -> tuple[object, ...]:
        host = f"{live.url}/api/"
        async with AsyncGeoboxClient(host, apikey=owner["key"], transport=transport, **FAST) as c:
            user = await c.get_user(7)
            summary, updated = await c.get_usage_summary(7), await c.update_usage(7)
            assert summary.pop("updated_at") <= updated.pop("updated_at")  # as of each call
            return user.data, summary, updated

    flaky = AsyncFlaky()
    assert asyncio.run(run(flaky)) == asyncio.run(run(None))
    assert each_sent_twice(flaky.seen)


def test_launchdarkly_client_retries_lost_replies(live: Live, owner: dict[str, str]) -> None:
    def evaluations(transport: httpx.BaseTransport | None) -> SeriesListRep:
        config = Configuration(host=live.url, api_key={"ApiKey": owner["key"]})
        with ApiClient(config, transport=transport, **FAST) as api:
            usage = AccountUsageBetaApi(api)
            since, to = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 4, tzinfo=UTC)
            return usage.get_evaluations_usage("web", "production", "f", var_from=since, to=to)

    flaky = Flaky()
    got = evaluations(flaky)
    assert got == evaluations(None)
    assert sum(int(point["0"]) for point in got.series) == 1
    assert each_sent_twice(flaky.seen)


def test_amie_client_resends_and_records_count_once(live: Live) -> None:
    with live.client() as root:
        root.post("/v1/tenants", json={"name": "SDSC"})
        key = root.post("/v1/keys", json={"tenant": "SDSC", "role": "admin"}).json()["key"]
    jobs = compute(40, 5, "sdsc", ["TG-A", "TG-B"], ["ann", "ben"])
    oracle = Oracle(registry={})
    oracle.send("Compute", jobs)
    flaky = Flaky()
    url = f"{live.url}/amie/"
    with UsageClient("SDSC", key, usage_url=url, transport=flaky, **FAST) as client:
        [reply] = client.send([ComputeUsageRecord.from_dict(j) for j in jobs])
        summary = client.summary()
    # The first send was stored; the retry found every record there already.
    assert reply.duplicate_record_count == len(jobs) and reply.failed_record_count == 0
    assert {
        (r.local_project_id, r.resource): {
            "Compute": r.compute,
            "Storage": r.storage,
            "Adjustment": r.adjustment,
            "TotalCharge": r.total_charge,
        }
        for r in summary
    } == oracle.summary()
    assert each_sent_twice(flaky.seen)
