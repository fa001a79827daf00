"""What the sync and async clients share: settings, requests as data, the retry policy.

Nothing here does I/O. Each API operation (client.ops) is a generator that yields
`Call`s and receives replies; `Client` and `AsyncClient` differ only in how they
send a call and wait, like httpx's own BaseClient.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from usagekit import __version__
from usagekit.client.batching import DEFAULT_MAX_BYTES
from usagekit.errors import (
    ConfigurationError,
    TransportError,
    from_response,
    retry_after_seconds,
)

T = TypeVar("T")
_DIGITS = re.compile(r"-?[0-9]+")
Instant = datetime | date | str | int


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP request, described: the I/O layer sends it (with retries)."""

    method: str
    path: str
    params: list[tuple[str, str]] | None = None
    body: bytes | None = None
    content_type: str = "application/json"
    # Safe to send twice: reads, deletes, and ingest (deduplicated by id).
    idempotent: bool = True
    stream: bool = False
    headers: Mapping[str, str] | None = None  # over the client's own, for this call only
    check: bool = True  # an error status raises usagekit.errors; False: the reply is returned


# Methods safe to send twice unless the caller says otherwise (RFC 9110).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def request_call(
    method: str,
    path: str,
    *,
    params: Mapping[str, str] | list[tuple[str, str]] | None = None,
    content: bytes | None = None,
    content_type: str = "application/json",
    headers: Mapping[str, str] | None = None,
    idempotent: bool | None = None,
    check: bool = True,
) -> Call:
    """The Call for `Client.request` / `AsyncClient.request` (see there)."""
    method = method.upper()
    pairs = list(params.items()) if isinstance(params, Mapping) else params
    return Call(
        method,
        path,
        pairs,
        content,
        content_type,
        method in IDEMPOTENT_METHODS if idempotent is None else idempotent,
        headers=headers,
        check=check,
    )


Op = Generator[Call, httpx.Response, T]

# Overload, rate limits and faults of the server's parts (a gateway, the database, a full
# disk): the request may succeed if sent again later.
_RETRY_STATUS = frozenset({429, 502, 503, 504, 507})


@dataclass(slots=True)
class RetryPolicy:
    """Exponential backoff with jitter; a server's Retry-After is honoured."""

    max_retries: int = 5
    backoff: float = 0.5  # the first delay; doubled on each retry
    max_backoff: float = 30.0
    max_retry_after: float = 120.0  # a longer Retry-After raises RateLimitError at once
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `attempt + 1` (attempt counts from 0)."""
        ceiling = min(self.max_backoff, self.backoff * 2.0**attempt)
        if retry_after is not None:
            # A little spread so clients told the same Retry-After do not return together.
            return retry_after + self.rng.random() * min(ceiling, 1.0) / 2
        return ceiling / 2 + self.rng.random() * ceiling / 2


class BaseClient:
    """Configuration and the decisions of the request loop, shared by both clients."""

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        max_retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_body_bytes: int = DEFAULT_MAX_BYTES,
        headers: Mapping[str, str] | None = None,
        auth_headers: Mapping[str, str] | None = None,
    ) -> None:
        url = url or os.environ.get("USAGEKIT_URL")
        if not url:
            raise ConfigurationError(
                "no server URL: pass url=... or set USAGEKIT_URL (e.g. http://127.0.0.1:8200)",
                param="USAGEKIT_URL",
            )
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"server URL {url!r} must start with http:// or https://", param="USAGEKIT_URL"
            )
        # A vendor-compatible client authenticates its vendor's way (auth_headers, or per
        # request); usagekit's own is a Bearer key.
        if auth_headers is None:
            api_key = api_key or os.environ.get("USAGEKIT_API_KEY")
            if not api_key:
                raise ConfigurationError(
                    "no API key: pass api_key=... or set USAGEKIT_API_KEY",
                    param="USAGEKIT_API_KEY",
                )
            auth_headers = {"Authorization": f"Bearer {api_key}"}
        if max_body_bytes < 1024:
            raise ConfigurationError("max_body_bytes must be at least 1024", param="max_body_bytes")
        self.url = url.rstrip("/")
        self.retry = RetryPolicy(max_retries, backoff, max_backoff)
        self.max_body_bytes = max_body_bytes
        self.headers = {
            **auth_headers,
            "User-Agent": f"usagekit-python/{__version__}",
            **(headers or {}),
        }

    def _request_args(self, call: Call) -> dict[str, Any]:
        headers = {**self.headers, **(call.headers or {})}
        if call.body is not None:
            headers["Content-Type"] = call.content_type
        return {
            "method": call.method,
            "url": self.url + call.path,
            "params": call.params,
            "content": call.body,
            "headers": headers,
        }

    def _next_step(
        self, call: Call, attempt: int, outcome: httpx.Response | httpx.TransportError
    ) -> httpx.Response | float:
        """The reply to hand on, or seconds to wait before trying again; else raise.

        A reply with an error status must have been read (streamed ones included);
        one that is not retried is handed on as it is when the call does not check.
        """
        can_retry = attempt < self.retry.max_retries
        if isinstance(outcome, httpx.TransportError):
            # A request that never left can always go again; others only if idempotent.
            unsent = isinstance(outcome, httpx.ConnectError | httpx.ConnectTimeout)
            if can_retry and (call.idempotent or unsent):
                return self.retry.delay(attempt)
            what = type(outcome).__name__
            raise TransportError(
                f"{call.method} {call.path}: {what}: {outcome or 'no detail'}"
            ) from outcome
        status = outcome.status_code
        if status < 400:
            return outcome
        if can_retry and status in _RETRY_STATUS and (call.idempotent or status == 429):
            hint = retry_after_seconds(outcome.headers.get("retry-after"))
            if hint is None or hint <= self.retry.max_retry_after:
                return self.retry.delay(attempt, hint)
        if not call.check:
            return outcome
        raise from_response(status, outcome.content, outcome.headers)


def instant(value: Instant | None, tz: str = "UTC") -> str | None:
    """A time bound as the server reads it: RFC 3339 with an offset, or Unix ms.

    The CLI passes its --from/--to here too, so both take the same forms. A date, or
    a date-time without an offset (a naive datetime or such a string), is wall-clock
    time in `tz` (the query's zone; UTC where there is none). What cannot be read is
    sent as it is, for the server to name the parameter.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("a time must be a datetime, date, RFC 3339 string or Unix ms")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        if not text or _DIGITS.fullmatch(text):
            return value  # Unix ms
        try:
            parsed = datetime.fromisoformat(text)  # a bare date reads as its midnight
        except ValueError:
            return value
        if parsed.tzinfo is not None:
            return value
        value = parsed
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=_zone(tz))).isoformat()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=_zone(tz)).isoformat()
    raise TypeError(f"a time must be a datetime, date, string or int, not {type(value).__name__}")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")  # the server names the bad tz
