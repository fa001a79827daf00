"""The body limit holds on every route, before any body is parsed, in each route's error shape."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_KEY
from usagekit.server.app import create_app
from usagekit.server.settings import Settings

LIMIT = 4096
BIG = orjson.dumps({"name": "x" * 10_000, "slug": "s", "event_type": "t"})


@pytest.fixture
def small(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings.replace(body_limit=LIMIT))) as test_client:
        yield test_client


def expected(size: int) -> str:
    return (
        f"body of {size} bytes is over the {LIMIT}-byte limit; "
        "nothing was stored, send smaller batches"
    )


def native_413(reply: object) -> dict[str, object]:
    assert getattr(reply, "status_code", None) == 413, getattr(reply, "text", reply)
    error: dict[str, object] = reply.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == "payload_too_large"
    return error


@pytest.mark.parametrize(
    "path", ["/v1/meters", "/v1/tenants", "/v1/keys", "/v1/events/void", "/v1/events"]
)
def test_every_native_route_refuses_a_big_body(small: TestClient, path: str) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"}
    error = native_413(small.post(path, content=BIG, headers=headers))
    assert error["message"] == expected(len(BIG))


def test_unauthenticated_requests_get_413_before_parsing(small: TestClient) -> None:
    """Without a key, a big body is refused, not parsed (a 400/422 would mean it was read)."""
    for headers in ({}, {"Authorization": "Bearer uk_not_a_key_0123456789"}):
        reply = small.post("/v1/meters", content=BIG, headers=headers)
        assert native_413(reply)["message"] == expected(len(BIG))


def test_streamed_bodies_are_counted(small: TestClient) -> None:
    """A chunked body declares no length: the bytes are counted as they arrive."""

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"[" + b" " * 998 + b"]"

    headers = {"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"}
    for path in ("/v1/meters", "/v1/events"):
        message = str(native_413(small.post(path, content=chunks(), headers=headers))["message"])
        assert message.startswith("body of at least ") and f"the {LIMIT}-byte limit" in message


def test_profiles_answer_413_in_their_vendors_shape(small: TestClient) -> None:
    exchange = small.post(
        "/exchange-auth-code", content=BIG, headers={"Content-Type": "application/json"}
    )
    assert exchange.status_code == 413
    assert exchange.headers["content-type"] == "application/problem+json"
    assert exchange.json()["status"] == 413 and "limit" in exchange.json()["detail"]

    amie = small.post(
        "/amie/usage/", content=BIG, headers={"XA-API-KEY": ADMIN_KEY, "XA-SITE": "default"}
    )
    assert amie.status_code == 413 and set(amie.json()) == {"error"}
    assert amie.json()["error"] == expected(len(BIG))  # AMIE's error is a string

    geobox = small.post("/api/v1/usage/update", content=BIG, params={"apikey": ADMIN_KEY})
    assert geobox.status_code == 413 and geobox.json() == {"detail": expected(len(BIG))}


def test_small_bodies_still_work(small: TestClient) -> None:
    small.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
    made = small.post(
        "/v1/meters", json={"slug": "cpu", "event_type": "job", "aggregation": "count"}
    )
    assert made.status_code == 201, made.text
    body = orjson.dumps([{"id": "a", "source": "s", "type": "job", "subject": "u", "time": 0}])
    assert small.post("/v1/events", content=body).json()["accepted"] == 1
