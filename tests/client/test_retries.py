"""Retries, backoff and error mapping, driven through httpx's MockTransport (no patching)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import httpx
import orjson
import pytest

from usagekit import AsyncClient, Client
from usagekit.client import RetryPolicy
from usagekit.errors import (
    RateLimitError,
    ServerError,
    TransportError,
    UsagekitError,
    ValidationError,
)

OK_INGEST = {"accepted": 1, "duplicates": 0, "conflicts": 0, "rejected": [], "conflicting": []}
EVENT = {"id": "1", "type": "t", "subject": "s", "time": 0}
METER = {
    "slug": "m",
    "event_type": "t",
    "aggregation": "count",
    "value_property": None,
    "dimensions": {},
    "unit": None,
    "description": None,
}


class Script:
    """A server that answers each request with the next scripted step; records arrival times."""

    def __init__(self, *steps: httpx.Response | Exception) -> None:
        self.steps = list(steps)
        self.times: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.times.append(time.monotonic())
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def reply(status: int, body: object = None, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=orjson.dumps(body), headers=headers)


def error(status: int, message: str, param: str | None = None, **headers: str) -> httpx.Response:
    return reply(status, {"error": {"code": "x", "message": message, "param": param}}, **headers)


def client(script: Script, **kw: float) -> Client:
    return Client("http://x", "k", transport=httpx.MockTransport(script), backoff=0.01, **kw)


def test_429_waits_for_retry_after_then_succeeds() -> None:
    script = Script(error(429, "slow down", **{"Retry-After": "0.2"}), reply(202, OK_INGEST))
    assert client(script).send([EVENT]).accepted == 1
    assert script.times[1] - script.times[0] >= 0.2


def test_503_and_dropped_connections_are_retried_for_ingest() -> None:
    script = Script(
        error(503, "writer restarting"),
        httpx.ReadError("connection reset"),
        reply(202, OK_INGEST),
    )
    result = client(script).send([EVENT])
    assert result.accepted == 1 and not script.steps


def test_faults_are_retried_by_default_as_the_server_asks() -> None:
    script = Script(
        error(507, "storage is full", **{"Retry-After": "0.1"}),
        *[error(503, "the database is unavailable", **{"Retry-After": "0.05"})] * 3,
        error(502, "bad gateway"),
        reply(202, OK_INGEST),
    )
    assert client(script).send([EVENT]).accepted == 1
    assert not script.steps
    assert script.times[1] - script.times[0] >= 0.1


def test_retries_run_out_into_the_sdks_own_errors() -> None:
    script = Script(*[error(503, "down")] * 3)
    with pytest.raises(ServerError) as down:
        client(script, max_retries=2).send([EVENT])
    assert down.value.status == 503 and "down" in str(down.value)
    refused = Script(*[httpx.ConnectError("refused")] * 2)
    with pytest.raises(TransportError, match="ConnectError"):
        client(refused, max_retries=1).meters()


def test_other_4xx_are_not_retried() -> None:
    script = Script(error(400, "granularity: use minute, hour, day, week or month", "granularity"))
    with pytest.raises(ValidationError) as bad:
        client(script).query("m", granularity="year")
    assert bad.value.param == "granularity" and len(script.times) == 1


def test_non_idempotent_calls_retry_only_when_nothing_was_sent() -> None:
    created = Script(httpx.ConnectError("refused"), reply(201, METER))
    assert client(created).create_meter("m", "t", "count").slug == "m"
    lost = Script(httpx.ReadTimeout("no reply"), reply(201, METER))
    with pytest.raises(TransportError, match="ReadTimeout"):
        client(lost).create_meter("m", "t", "count")
    assert len(lost.times) == 1  # the meter may exist: not sent twice


def test_a_retry_after_beyond_the_limit_raises_at_once() -> None:
    script = Script(error(429, "over quota", **{"Retry-After": "3600"}), reply(202, OK_INGEST))
    with pytest.raises(RateLimitError) as limited:
        client(script).send([EVENT])
    assert limited.value.retry_after == 3600 and len(script.times) == 1
    assert isinstance(limited.value, UsagekitError)


def test_an_answer_that_is_not_usagekits_still_maps_to_an_error() -> None:
    script = Script(httpx.Response(502, text="<html>bad gateway</html>"))
    with pytest.raises(ServerError, match="bad gateway"):
        client(script, max_retries=0).meters()


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(backoff=0.5, max_backoff=4.0, rng=random.Random(1))
    for attempt, ceiling in enumerate([0.5, 1.0, 2.0, 4.0, 4.0, 4.0]):
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 4  # jittered, not fixed
    hinted = [policy.delay(0, retry_after=7.0) for _ in range(50)]
    assert all(7.0 <= d <= 7.25 for d in hinted)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_the_async_client_follows_the_same_policy() -> None:
    script = Script(error(429, "slow"), httpx.ConnectError("refused"), reply(202, OK_INGEST))
    transport = httpx.MockTransport(script)
    async with AsyncClient("http://x", "k", transport=transport, backoff=0.01) as c:
        assert (await c.send([EVENT])).accepted == 1
    assert len(script.times) == 3
    bad = Script(error(400, "no", "to"))
    async with AsyncClient("http://x", "k", transport=httpx.MockTransport(bad)) as c:
        with pytest.raises(ValidationError):
            await c.summary(end="soon")


def test_headers_carry_the_key_and_the_body_its_type() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return reply(202, OK_INGEST)

    answer: Callable[[httpx.Request], httpx.Response] = handler
    with Client("http://x/", "secret", transport=httpx.MockTransport(answer)) as c:
        c.send([EVENT])
    assert seen[0].headers["authorization"] == "Bearer secret"
    assert seen[0].headers["content-type"] == "application/json"
    assert str(seen[0].url) == "http://x/v1/events"
    assert orjson.loads(seen[0].content) == [EVENT]
