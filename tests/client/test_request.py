"""`Client.request` / `AsyncClient.request`: the SDK's public transport, with its retries.

Driven through httpx's MockTransport (no patching), as tests/client/test_retries.py.
"""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest

from usagekit import AsyncClient, Client
from usagekit.errors import ConfigurationError, NotFoundError, ServerError


class Recorder:
    """Answers each request with the next scripted (status, body); keeps the requests."""

    def __init__(self, *steps: tuple[int, object]) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        status, body = self.steps.pop(0)
        return httpx.Response(status, content=orjson.dumps(body), headers={"Retry-After": "0"})


def client(script: Recorder) -> Client:
    return Client("http://x/base", "k", transport=httpx.MockTransport(script), backoff=0.01)


def test_get_is_retried_and_the_raw_reply_returned() -> None:
    script = Recorder((503, {"error": "busy"}), (502, "gateway"), (200, {"rows": [1, 2]}))
    reply = client(script).request("GET", "/v2/things", params={"a": "1"})
    assert reply.status_code == 200 and reply.json() == {"rows": [1, 2]}
    assert [str(r.url) for r in script.requests] == ["http://x/base/v2/things?a=1"] * 3


def test_post_is_sent_once_unless_said_idempotent() -> None:
    once = Recorder((503, {"error": "busy"}))
    with pytest.raises(ServerError):
        client(once).request("POST", "/p", content=b"{}")
    assert len(once.requests) == 1
    again = Recorder((503, {"error": "busy"}), (200, {"ok": True}))
    reply = client(again).request("POST", "/p", content=b"{}", idempotent=True)
    assert reply.json() == {"ok": True} and len(again.requests) == 2
    assert again.requests[1].content == b"{}"
    assert again.requests[1].headers["content-type"] == "application/json"


def test_error_status_raises_or_is_handed_back_unchecked() -> None:
    with pytest.raises(NotFoundError):
        client(Recorder((404, {"error": {"message": "gone"}}))).request("GET", "/x")
    script = Recorder((503, {"error": "busy"}), (404, {"error": "vendor shape"}))
    reply = client(script).request("GET", "/x", check=False)
    assert reply.status_code == 404 and reply.json() == {"error": "vendor shape"}
    assert len(script.requests) == 2  # the 503 was still retried


def test_auth_headers_replace_the_bearer_key_and_calls_add_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("USAGEKIT_API_KEY", raising=False)
    with pytest.raises(ConfigurationError):
        Client("http://x", transport=httpx.MockTransport(Recorder()))
    script = Recorder((200, {}), (200, {}))
    vendor = Client(
        "http://x",
        auth_headers={"XA-API-KEY": "secret", "XA-SITE": "S"},
        transport=httpx.MockTransport(script),
    )
    vendor.request("GET", "/a")
    vendor.request("GET", "/b", headers={"Authorization": "Bearer t1", "XA-SITE": "T"})
    first, second = script.requests
    assert "authorization" not in first.headers and first.headers["xa-api-key"] == "secret"
    assert second.headers["authorization"] == "Bearer t1" and second.headers["xa-site"] == "T"
    own = Recorder((200, {}))
    client(own).request("GET", "/c")
    assert own.requests[0].headers["authorization"] == "Bearer k"


def test_async_request_retries_the_same_way() -> None:
    script = Recorder((429, {"error": "slow"}), (200, [1]))

    async def run() -> httpx.Response:
        transport = httpx.MockTransport(script)
        async with AsyncClient("http://x", "k", transport=transport, backoff=0.01) as c:
            return await c.request("DELETE", "/d/1")

    reply = asyncio.run(run())
    assert reply.json() == [1] and [r.method for r in script.requests] == ["DELETE", "DELETE"]
