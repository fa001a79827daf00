"""Geobox's async usage API (`geobox.aio.usage.AsyncUsage`) over usagekit's Geobox profile.

Code written for Geobox's AsyncUsage runs unchanged against usagekit:

    async with AsyncGeoboxClient("http://localhost:8200/api/", apikey=key) as client:
        user = await client.get_user()
        rows = await AsyncUsage.get_api_usage(client, user, UsageScale.Day,
                                              UsageParam.Calls, days_before_now=5)

HTTP goes through usagekit.AsyncClient.request, with its retries (the key as a
Bearer header, never in the URL); errors are usagekit.errors classes. Aware
datetimes are sent in UTC, naive ones are taken as UTC.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from enum import Enum
from types import TracebackType
from typing import Any
from urllib.parse import urljoin

import httpx
import orjson

from usagekit.client.aio import AsyncClient
from usagekit.errors import ConfigurationError, UsagekitError, from_response

DATE_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
RANGE_NEEDED = "one of days_before_now or from_date/to_date parameters must have value"


class UsageScale(Enum):
    Hour = "hour"
    Day = "day"
    Month = "month"


class UsageParam(Enum):
    Traffict = "traffic"  # Geobox's spelling
    Traffic = "traffic"
    Calls = "calls"


class _Resource:
    """A Geobox object: its JSON as `data`, fields readable as attributes."""

    def __init__(self, api: AsyncGeoboxClient, data: dict[str, Any]) -> None:
        self.api = api
        self.data = data

    def __getattr__(self, name: str) -> Any:
        data = self.__dict__.get("data") or {}
        if name in data:
            return data[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name}")


class AsyncUser(_Resource):
    def __init__(self, api: AsyncGeoboxClient, user_id: int | str, data: dict[str, Any]) -> None:
        super().__init__(api, data)
        self.user_id = user_id

    def __repr__(self) -> str:
        return f"AsyncUser(id={self.user_id}, username={self.data.get('username')})"


class AsyncApiKey(_Resource):
    def __init__(self, api: AsyncGeoboxClient, key_id: int, data: dict[str, Any]) -> None:
        super().__init__(api, data)
        self.key_id = key_id

    def __repr__(self) -> str:
        return f"AsyncApiKey(id={self.key_id}, name={self.data.get('name')})"


class AsyncGeoboxClient:
    """The part of Geobox's AsyncGeoboxClient that usage needs; use with `async with`."""

    def __init__(
        self,
        host: str = "http://localhost:8200/api/",
        ver: str = "v1/",
        apikey: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        **options: Any,
    ) -> None:
        key = apikey or os.environ.get("GEOBOX_APIKEY")
        if not key:
            raise ConfigurationError("apikey: pass apikey= or set GEOBOX_APIKEY")
        self.base_url = urljoin(host if host.endswith("/") else host + "/", ver)
        self._http = AsyncClient(
            self.base_url.rstrip("/"),
            key,
            headers={"Accept": "application/json"},
            timeout=timeout,
            transport=transport,
            **options,
        )

    async def __aenter__(self) -> AsyncGeoboxClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(
        self, method: str, endpoint: str, params: dict[str, Any] | None, body: Any = None
    ) -> Any:
        clean = [(k, _param(v)) for k, v in (params or {}).items() if v is not None]
        content = orjson.dumps(body) if body is not None else None
        # Every call is safe to repeat: reads, and recomputing a user's usage.
        reply = await self._http.request(
            method, "/" + endpoint, params=clean, content=content, idempotent=True, check=False
        )
        if reply.status_code >= 400:
            raise _error(reply)
        return orjson.loads(reply.content) if reply.content else None

    async def get(self, endpoint: str, params: dict[str, Any] | None = None) -> Any:
        return await self._request("GET", endpoint, params)

    async def post(self, endpoint: str, payload: dict[str, Any] | None = None) -> Any:
        return await self._request("POST", endpoint, None, payload or {})

    async def get_user(self, user_id: int | str = "me") -> AsyncUser:
        data = await self.get(f"users/{user_id}/")
        return AsyncUser(self, data["id"], data)

    async def get_apikeys(self, **kwargs: Any) -> list[AsyncApiKey]:
        names = ("search", "order_by", "skip", "limit", "user_id")
        rows = await self.get("apikeys/", {n: kwargs.get(n) for n in names})
        return [AsyncApiKey(self, row["id"], row) for row in rows]

    async def get_apikey(self, key_id: int) -> AsyncApiKey:
        row = await self.get(f"apikeys/{key_id}/")
        return AsyncApiKey(self, row["id"], row)

    async def get_api_usage(
        self,
        resource: AsyncUser | AsyncApiKey,
        scale: UsageScale,
        param: UsageParam,
        from_date: datetime | None = None,
        to_date: datetime | None = None,
        days_before_now: int | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        return await AsyncUsage.get_api_usage(
            self, resource, scale, param, from_date, to_date, days_before_now, limit
        )

    async def get_process_usage(
        self,
        user_id: int | None = None,
        from_date: datetime | None = None,
        to_date: datetime | None = None,
        days_before_now: int | None = None,
    ) -> float:
        return await AsyncUsage.get_process_usage(
            self, user_id, from_date, to_date, days_before_now
        )

    async def get_usage_summary(self, user_id: int | None = None) -> dict[str, Any]:
        return await AsyncUsage.get_usage_summary(self, user_id)

    async def update_usage(self, user_id: int | None = None) -> dict[str, Any]:
        return await AsyncUsage.update_usage(self, user_id)


def _error(reply: httpx.Response) -> UsagekitError:
    """usagekit's error class for the status; FastAPI-style detail lists name the parameter."""
    err = from_response(reply.status_code, reply.content, reply.headers)
    try:
        detail = orjson.loads(reply.content).get("detail")
    except (orjson.JSONDecodeError, AttributeError):
        return err
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        err.message = str(detail[0].get("msg", err.message))
        loc = detail[0].get("loc") or []
        err.param = str(loc[-1]) if loc else None
        err.args = (err.message,)
    return err


def _param(value: Any) -> str:
    """A query value as httpx wrote it before: booleans in lower case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _when(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime(DATE_FORMAT)


def _value(choice: Any) -> Any:
    return getattr(choice, "value", choice) if choice is not None else None


class AsyncUsage:
    """Usage reports of a user, with Geobox's four async class methods."""

    BASE_ENDPOINT = "usage/"

    def __init__(self, api: AsyncGeoboxClient, user: AsyncUser) -> None:
        self.api = api
        self.user = user

    def __repr__(self) -> str:
        return f"AsyncUsage(user={self.user})"

    @classmethod
    async def get_api_usage(
        cls,
        api: AsyncGeoboxClient,
        resource: AsyncUser | AsyncApiKey,
        scale: UsageScale,
        param: UsageParam,
        from_date: datetime | None = None,
        to_date: datetime | None = None,
        days_before_now: int | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """[{date, value}] per bucket of `scale`, newest first, at most `limit` (default 10)."""
        if not (from_date and to_date) and not days_before_now:
            raise ValueError(RANGE_NEEDED)
        if isinstance(resource, AsyncUser):
            eid: Any = resource.user_id
        elif isinstance(resource, AsyncApiKey):
            eid = resource.data["key"]
        else:
            raise ValueError("resource must be a 'user' or 'apikey' object")
        params = {
            "eid": eid,
            "scale": _value(scale),
            "param": _value(param),
            "from_date": _when(from_date),
            "to_date": _when(to_date),
            "days_before_now": days_before_now,
            "limit": limit,
        }
        rows: list[dict[str, Any]] = await api.get(f"{cls.BASE_ENDPOINT}api", params)
        return rows

    @classmethod
    async def get_process_usage(
        cls,
        api: AsyncGeoboxClient,
        user_id: int | None = None,
        from_date: datetime | None = None,
        to_date: datetime | None = None,
        days_before_now: int | None = None,
    ) -> float:
        """Process seconds of a user (the key's own when user_id is None)."""
        if not (from_date and to_date) and not days_before_now:
            raise ValueError(RANGE_NEEDED)
        params = {
            "user_id": user_id or None,
            "from_date": _when(from_date),
            "to_date": _when(to_date),
            "days_before_now": days_before_now,
        }
        return float(await api.get(f"{cls.BASE_ENDPOINT}process", params))

    @classmethod
    async def get_usage_summary(
        cls, api: AsyncGeoboxClient, user_id: int | None = None
    ) -> dict[str, Any]:
        """All-time calls, traffic and process seconds of a user."""
        summary: dict[str, Any] = await api.get(
            f"{cls.BASE_ENDPOINT}summary", {"user_id": user_id or None}
        )
        return summary

    @classmethod
    async def update_usage(
        cls, api: AsyncGeoboxClient, user_id: int | None = None
    ) -> dict[str, Any]:
        """Recompute the user's aggregates from raw events; returns the summary."""
        body = {"user_id": user_id} if user_id else {}
        summary: dict[str, Any] = await api.post(f"{cls.BASE_ENDPOINT}update", body)
        return summary


__all__ = [
    "DATE_FORMAT",
    "RANGE_NEEDED",
    "AsyncApiKey",
    "AsyncGeoboxClient",
    "AsyncUsage",
    "AsyncUser",
    "UsageParam",
    "UsageScale",
]
