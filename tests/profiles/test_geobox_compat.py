"""usagekit.compat.geobox: AsyncUsage's four class methods against `usagekit serve`,
with the same calls and oracle as the vendor clients' test."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tests.live import serve
from tests.profiles import geobox_data as data
from tests.profiles.geobox_data import World, now_ms, populate
from usagekit.compat.geobox import (
    AsyncApiKey,
    AsyncGeoboxClient,
    AsyncUsage,
    AsyncUser,
    UsageParam,
    UsageScale,
)
from usagekit.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    UsagekitError,
    ValidationError,
)


@pytest.fixture(scope="module")
def world(module_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("geobox-compat")
    with serve(module_db, tmp) as live:
        yield populate(live, module_db)


def client(world: World, key: str) -> AsyncGeoboxClient:
    return AsyncGeoboxClient(f"{world.live.url}/api/", "v1/", apikey=world.keys.get(key, key))


async def resource(api: AsyncGeoboxClient, what: dict[str, Any]) -> AsyncUser | AsyncApiKey:
    if "user" in what:
        return await (api.get_user() if what["user"] == "me" else api.get_user(what["user"]))
    found = await api.get_apikeys(user_id=what.get("owner"), limit=100)
    return next(k for k in found if k.key == what["apikey"])


def arguments(kwargs: dict[str, Any]) -> dict[str, Any]:
    out = dict(kwargs)
    for name in ("from_date", "to_date"):
        if out.get(name):
            out[name] = datetime.strptime(out[name], "%Y-%m-%dT%H:%M:%S")
    if "scale" in out:
        out["scale"] = UsageScale(out["scale"])
    if "param" in out:
        out["param"] = UsageParam(out["param"])
    return out


async def run(world: World, calls: list[list[Any]]) -> list[Any]:
    out: list[Any] = []
    for i, (key, method, kwargs) in enumerate(calls):
        async with client(world, key) as api:
            kw = arguments(kwargs)
            if "resource" in kw:
                kw["resource"] = await resource(api, kw["resource"])
            try:
                if i % 2:
                    out.append(await getattr(AsyncUsage, method)(api, **kw))
                else:
                    out.append(await getattr(api, method)(**kw))
            except UsagekitError as exc:
                out.append({"error": type(exc).__name__, "param": exc.param})
    return out


def test_async_usage_numbers(world: World) -> None:
    calls, expected = data.plan(world.now)
    before = now_ms()
    got = asyncio.run(run(world, calls))
    wants = (expected(world.events, before), expected(world.events, now_ms()))
    for i, call in enumerate(calls):
        assert any(data.same(got[i], w[i]) for w in wants), (call, got[i], wants[0][i])
    assert sum(1 for w in wants[0] if w) > len(calls) // 2


def test_aware_dates_are_sent_in_utc(world: World) -> None:
    zone = timezone(timedelta(hours=3, minutes=30))
    lo = datetime.fromtimestamp((world.now - 20 * data.DAY) // 1000, UTC)
    hi = datetime.fromtimestamp((world.now - 2 * data.DAY) // 1000, UTC)

    async def both() -> tuple[list[dict[str, Any]], float]:
        async with client(world, "u7") as api:
            me = await api.get_user()
            rows = await AsyncUsage.get_api_usage(
                api,
                me,
                UsageScale.Day,
                UsageParam.Traffict,
                lo.astimezone(zone),
                hi.astimezone(zone),
                limit=30,
            )
            secs = await AsyncUsage.get_process_usage(
                api, None, lo.astimezone(zone), hi.astimezone(zone)
            )
            return rows, secs

    rows, secs = asyncio.run(both())
    lo_ms, hi_ms = int(lo.timestamp()) * 1000, int(hi.timestamp()) * 1000
    assert rows == data.series(world.events, lo_ms, hi_ms, "day", "traffic", 30, subject="7")
    assert any(r["value"] for r in rows)
    assert abs(secs - data.process(world.events, "7", lo_ms, hi_ms)) < 1e-6 and secs > 0


def test_value_errors_and_error_classes(world: World) -> None:
    async def scenario() -> list[Any]:
        seen: list[Any] = []
        async with client(world, "u7") as api:
            me = await api.get_user()
            assert repr(AsyncUsage(api, me)).startswith("AsyncUsage(user=AsyncUser(id=7")
            for call in (
                AsyncUsage.get_api_usage(api, me, UsageScale.Day, UsageParam.Calls),
                AsyncUsage.get_api_usage(
                    api,
                    "7",
                    UsageScale.Day,
                    UsageParam.Calls,  # type: ignore[arg-type]
                    days_before_now=3,
                ),
                AsyncUsage.get_process_usage(api, from_date=datetime(2026, 1, 1)),
            ):
                with pytest.raises(ValueError, match="must") as info:
                    await call
                seen.append(str(info.value))
            for kind, call in (
                (PermissionDeniedError, AsyncUsage.get_usage_summary(api, 8)),
                (PermissionDeniedError, AsyncUsage.update_usage(api, 31)),
                (
                    ValidationError,
                    AsyncUsage.get_api_usage(
                        api, me, UsageScale.Hour, UsageParam.Calls, days_before_now=3, limit=0
                    ),
                ),
            ):
                with pytest.raises(kind) as caught:
                    await call
                seen.append(caught.value.param)
        async with client(world, "admin") as api:
            with pytest.raises(NotFoundError):
                await AsyncUsage.get_usage_summary(api, 999)
        async with client(world, "uk_not_a_key_0123456789") as api:
            with pytest.raises(AuthenticationError):
                await AsyncUsage.get_usage_summary(api)
        return seen

    seen = asyncio.run(scenario())
    assert seen[0] == seen[2] == data.RANGE_MESSAGE
    assert seen[1] == "resource must be a 'user' or 'apikey' object"
    assert seen[3:] == [None, None, "limit"]
