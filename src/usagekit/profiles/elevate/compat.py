"""`UsageMonitoringService` as in earnix-elevate, against usagekit's Elevate profile.

Settings come from the arguments or, when one is None or empty, from E2_SERVER,
E2_CLIENT_ID and E2_SECRET_KEY. `server="localhost"` means http://localhost:8200
(as in the vendor's client); usagekit also takes a full http(s) URL here.
Requests go through usagekit.Client.request (its retries); other keyword
arguments (max_retries=...) go to that Client.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
import orjson

from usagekit.client.sync import Client
from usagekit.errors import AuthenticationError

LOCALHOST = "http://localhost:8200"
_SERVER = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_REFRESH_SKEW = 30.0


class ElevateConfigurationException(Exception):
    """A missing or invalid setting; the message names it (the secret is never shown)."""


@dataclass(frozen=True, slots=True)
class UsageMonitoringResponse:
    metric_type: str
    total_value: int


def _setting(value: str | None, env: str, name: str, secret: bool = False) -> str:
    chosen = value if value else os.environ.get(env)
    if chosen is None:
        raise ElevateConfigurationException(
            f"Missing {env} environment variable or {name} parameter"
        )
    if not chosen.strip():
        shown = "<redacted>" if secret else repr(chosen)
        raise ElevateConfigurationException(f"Invalid {name} parameter: empty value {shown}")
    return chosen.strip()


def base_url(server: str) -> str:
    """Where a server name points: localhost, a full URL, or an Elevate host name."""
    if server == "localhost":
        return LOCALHOST
    if server.startswith(("http://", "https://")):
        return server.rstrip("/")
    if not _SERVER.match(server):
        raise ElevateConfigurationException(
            f"Invalid server parameter: {server!r} is not a DNS label, 'localhost' or a URL"
        )
    return (
        f"https://{server}.earnix.com"
        if server.startswith("e2-")
        else f"https://{server}.e2.earnix.com"
    )


def _stamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class UsageMonitoringService:
    """Per-tenant totals of CPU_TIME_MS / DATA_TRANSFER_VOLUME_BYTES and their CSV."""

    def __init__(
        self,
        server: str | None = None,
        client_id: str | None = None,
        secret_key: str | None = None,
        *,
        timeout: float = 60.0,
        **options: Any,
    ) -> None:
        url = base_url(_setting(server, "E2_SERVER", "server"))
        self._client_id = _setting(client_id, "E2_CLIENT_ID", "client_id")
        self._secret = _setting(secret_key, "E2_SECRET_KEY", "secret_key", secret=True)
        # No standing credentials: each call carries the access token of the moment.
        self._http = Client(url, auth_headers={}, timeout=timeout, **options)
        self._lock = threading.Lock()
        self._token = ""
        self._expires = 0.0
        try:
            self._authorization()  # fail at construction on wrong credentials, as upstream
        except Exception:
            self._http.close()
            raise

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> UsageMonitoringService:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def get_usage_summary(
        self, metric_type: str, start_date: datetime | None = None, end_date: datetime | None = None
    ) -> UsageMonitoringResponse:
        """The tenant's total of `metric_type` over [start_date, end_date)."""
        body = orjson.loads(
            self._get("/api/umon/v1/usage-metrics", metric_type, start_date, end_date)
        )
        return UsageMonitoringResponse(body["metricType"], int(body["totalValue"]))

    def download_usage_metrics_csv(
        self, metric_type: str, start_date: datetime | None = None, end_date: datetime | None = None
    ) -> bytearray:
        """One CSV row per job carrying the metric (the server streams it in pages)."""
        path = "/api/umon/v1/usage-metrics/download"
        return bytearray(self._get(path, metric_type, start_date, end_date))

    def _get(
        self, path: str, metric_type: str, start: datetime | None, end: datetime | None
    ) -> bytes:
        params = {"metricType": metric_type, "startDate": _stamp(start), "endDate": _stamp(end)}
        headers = {"Authorization": f"Bearer {self._authorization()}"}
        query = [(k, v) for k, v in params.items() if v]
        return self._http.request("GET", path, params=query, headers=headers).content

    def _authorization(self) -> str:
        """A valid access token, exchanged again shortly before it expires."""
        with self._lock:
            if time.time() < self._expires - _REFRESH_SKEW:
                return self._token
            body = orjson.dumps({"clientId": self._client_id, "secret": self._secret})
            try:
                # Exchanging changes nothing on the server: safe to send again.
                reply = self._http.request(
                    "POST", "/exchange-auth-code", content=body, idempotent=True
                )
            except AuthenticationError:
                raise AuthenticationError("Invalid credentials.", status=401) from None
            self._token = reply.json()["accessToken"]
            # As upstream: the token's own `exp`, read without verifying (the server verifies).
            claims = jwt.decode(self._token, options={"verify_signature": False})
            self._expires = float(claims.get("exp", time.time() + 300))
            return self._token


__all__ = [
    "LOCALHOST",
    "ElevateConfigurationException",
    "UsageMonitoringResponse",
    "UsageMonitoringService",
    "base_url",
]
