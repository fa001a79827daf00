"""Geobox: the `geobox` package's GeoboxClient and AsyncGeoboxClient, unmodified, against
`usagekit serve`; every number is checked against tests/profiles/geobox_data.py's oracle."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text

from tests.conftest import ADMIN_KEY
from tests.live import serve
from tests.profiles import geobox_data as data
from tests.profiles.geobox_data import World, now_ms, populate
from tests.profiles.vendor import run_script, vendor_python
from usagekit.store.engine import make_engine


@pytest.fixture(scope="module")
def geobox_python() -> Path:
    return vendor_python("geobox")


@pytest.fixture(scope="module")
def world(module_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("geobox")
    with serve(module_db, tmp) as live:
        yield populate(live, module_db)


def check(calls: list[list[Any]], got: list[Any], wants: tuple[list[Any], list[Any]]) -> None:
    """Each answer equals the oracle's at the time before or after the calls ran."""
    for i, call in enumerate(calls):
        assert any(data.same(got[i], w[i]) for w in wants), (call, got[i], wants[0][i])


@pytest.mark.slow
def test_vendor_clients_numbers(world: World, geobox_python: Path) -> None:
    calls, expected = data.plan(world.now)
    spec = {"host": f"{world.live.url}/api/", "keys": world.keys, "calls": calls}
    before = now_ms()
    got = run_script(geobox_python, "geobox_calls.py", orjson.dumps(spec).decode(), timeout=300)
    wants = (expected(world.events, before), expected(world.events, now_ms()))
    check(calls, got["sync"], wants)
    check(calls, got["async"], wants)
    # the data make every day and month series and every total non-trivial
    for call, want in zip(calls, wants[0], strict=True):
        if call[1] == "get_api_usage" and call[2]["scale"] != "hour":
            assert any(row["value"] for row in want), call
        elif call[1] != "get_api_usage":
            assert (want if isinstance(want, float) else want["calls"]) > 0, call
    hourly = [w for c, w in zip(calls, wants[0], strict=True) if c[2].get("scale") == "hour"]
    assert sum(row["value"] for series in hourly for row in series) > 0

    # users and API keys as the client builds them; no secret is ever listed
    assert got["users"]["u7"] == {"id": 7, "username": "7", "role": "Viewer"}
    assert got["users"]["admin"]["error"] == "ValidationError"  # an unbound key has no `me`
    mine = got["keys"]["u7"]
    assert sorted(k["key"] for k in mine) == ["pk-7-1", "pk-7-2"]
    assert all(k["name"] == k["key"] and k["user_id"] == 7 for k in mine)
    assert got["keys"]["u7:detail"] == mine[0]
    assert sorted(k["key"] for k in got["keys"]["admin"]) == sorted(
        f"pk-{u}-{n}" for u in data.USERS for n in (1, 2)
    )
    listed = orjson.dumps(got["keys"]).decode()
    assert not any(secret in listed for secret in world.keys.values())


@pytest.mark.slow
def test_vendor_client_errors(world: World, geobox_python: Path) -> None:
    keys = {**world.keys, "wrong": "uk_not_a_key_0123456789"}
    me = {"user": "me"}
    bad = [
        (["wrong", "get_usage_summary", {}], "AuthenticationError"),
        (["ingest7", "get_usage_summary", {}], "AuthorizationError"),
        (["u7", "get_usage_summary", {"user_id": 8}], "AuthorizationError"),
        (["u7", "get_process_usage", {"user_id": 31, "days_before_now": 3}], "AuthorizationError"),
        (["u7", "update_usage", {"user_id": 8}], "AuthorizationError"),
        (["reader", "get_usage_summary", {"user_id": 8}], "AuthorizationError"),
        (["admin", "get_usage_summary", {"user_id": 999}], "NotFoundError"),
        (
            [
                "u7",
                "get_api_usage",
                {"resource": me, "scale": "week", "param": "calls", "days_before_now": 3},
            ],
            "ValidationError",
        ),
        (
            [
                "u7",
                "get_api_usage",
                {"resource": me, "scale": "day", "param": "bytes", "days_before_now": 3},
            ],
            "ValidationError",
        ),
        (
            [
                "u7",
                "get_api_usage",
                {
                    "resource": me,
                    "scale": "day",
                    "param": "calls",
                    "days_before_now": 3,
                    "limit": 0,
                },
            ],
            "ValidationError",
        ),
        (
            [
                "u7",
                "get_api_usage",
                {
                    "resource": me,
                    "scale": "day",
                    "param": "calls",
                    "from_date": "2026-03-02T00:00:00",
                    "to_date": "2026-03-01T00:00:00",
                },
            ],
            "ValidationError",
        ),
        (
            [
                "u7",
                "get_process_usage",
                {"from_date": "2026-03-02T00:00:00", "to_date": "2026-03-01T00:00:00"},
            ],
            "ValidationError",
        ),
    ]
    spec = {"host": f"{world.live.url}/api/", "keys": keys, "calls": [c for c, _ in bad]}
    got = run_script(geobox_python, "geobox_calls.py", orjson.dumps(spec).decode(), timeout=300)
    for mode in ("sync", "async"):
        for (call, kind), answer in zip(bad, got[mode], strict=True):
            assert isinstance(answer, dict) and answer.get("error") == kind, (mode, call, answer)
    messages = [a["message"] for a in got["sync"]]
    assert "scale" in messages[7] and "param" in messages[8] and "limit" in messages[9]
    assert "to_date" in messages[10]


def test_wire_shapes(world: World) -> None:
    base = f"{world.live.url}/api/v1"
    u7 = {"apikey": world.keys["u7"]}
    reply = httpx.get(f"{base}/usage/summary", params={"apikey": "uk_wrong_key_0123456789"})
    assert reply.status_code == 401 and isinstance(reply.json()["detail"], str)
    assert httpx.get(f"{base}/usage/summary").status_code == 401
    bearer = {"Authorization": f"Bearer {world.keys['u7']}"}
    summary = httpx.get(f"{base}/usage/summary", headers=bearer).json()
    assert data.same(summary, data.summary(world.events, "7")) and summary["user_id"] == 7
    # another user's API key: 403 for a user, the whole key's usage for an admin
    q = {"eid": "pk-8-1", "scale": "month", "param": "calls", "days_before_now": "120"}
    denied = httpx.get(f"{base}/usage/api", params={**q, **u7})
    assert denied.status_code == 403 and "another user" in denied.json()["detail"]
    assert httpx.get(f"{base}/users/8/", params=u7).status_code == 403
    assert httpx.get(f"{base}/users/7/", params=u7).json()["id"] == 7
    admin = {"apikey": ADMIN_KEY}
    assert httpx.get(f"{base}/users/8/", params=admin).json() == {
        "id": 8,
        "username": "8",
        "first_name": "8",
        "last_name": "",
        "email": None,
        "role": "Viewer",
        "status": "Active",
    }
    bad = httpx.get(f"{base}/usage/api", params={**q, "scale": "week", **u7})
    assert bad.status_code == 422
    assert bad.json() == {
        "detail": [
            {
                "loc": ["query", "scale"],
                "type": "value_error",
                "msg": "Input should be 'hour', 'day', 'month' (got 'week')",
            }
        ]
    }
    bad = httpx.get(
        f"{base}/usage/process", params={"from_date": "yesterday", "to_date": "x", **u7}
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "from_date"]
    bad = httpx.get(f"{base}/usage/process", params=u7)
    assert bad.status_code == 422 and "days_before_now" in bad.json()["detail"][0]["msg"]
    post = httpx.post(f"{base}/usage/update", params=u7, content=b"[1]")
    assert post.status_code == 422 and post.json()["detail"][0]["loc"] == ["body", "body"]
    assert httpx.get(f"{base}/nothing/", params=u7).json() == {
        "detail": "no such endpoint; see /docs"
    }


def test_update_recomputes_from_raw_events(world: World) -> None:
    """Lose the per-key aggregates, then update_usage of each user rebuilds them."""
    base, admin = f"{world.live.url}/api/v1", {"apikey": ADMIN_KEY}
    q = {
        "eid": "pk-8-1",
        "scale": "day",
        "param": "traffic",
        "days_before_now": "120",
        "limit": "200",
    }

    def oracle(at: int) -> list[dict[str, Any]]:
        return data.series(
            world.events, at - 120 * data.DAY, at, "day", "traffic", 200, apikey="pk-8-1"
        )

    before = now_ms()
    right = httpx.get(f"{base}/usage/api", params={**q, **admin}).json()
    assert right in (oracle(before), oracle(now_ms()))
    engine = make_engine(world.db)
    with engine.begin() as conn:
        conn.execute(
            text(
                "DELETE FROM rollups WHERE meter_id IN (SELECT id FROM meters WHERE slug LIKE "
                "'geobox.%' AND tenant_id = (SELECT id FROM tenants WHERE name = 'default'))"
            )
        )
    engine.dispose()
    lost = httpx.get(f"{base}/usage/api", params={**q, **admin}).json()
    assert sum(r["value"] for r in lost) == 0 < sum(r["value"] for r in right)
    updated = httpx.post(f"{base}/usage/update", params=admin, json={"user_id": 8})
    assert updated.status_code == 200
    assert data.same(updated.json(), data.summary(world.events, "8"))
    before = now_ms()
    again = httpx.get(f"{base}/usage/api", params={**q, **admin}).json()
    assert again in (oracle(before), oracle(now_ms()))
    mine = httpx.post(f"{base}/usage/update", params={"apikey": world.keys["u7"]})
    assert data.same(mine.json(), data.summary(world.events, "7"))
