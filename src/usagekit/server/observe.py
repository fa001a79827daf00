"""Every request's id, log line and metrics, in the outermost middleware.

It wraps Starlette's own error middleware too, so a 500 carries the request id, and
the exception Starlette raises again after answering it ends here: logged once, in
the request's line (its traceback one field), not as a traceback in uvicorn's log.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

from prometheus_client.metrics import Counter, Histogram
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from usagekit.server.errors import error_body
from usagekit.server.responses import JSON
from usagekit.services import metrics
from usagekit.services.logs import CURRENT, RequestInfo

log = logging.getLogger("usagekit.access")

HEADER = b"x-request-id"
MAX_ID = 128  # longer inbound ids are replaced
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
INTERNAL = "internal error; the server log has the details"
UNMATCHED = "unmatched"  # the route label of a path no route serves (bounded: one value)


def request_id(scope: Scope) -> str:
    """The inbound X-Request-ID when short and printable ASCII (no spaces), else a new one."""
    for name, value in scope["headers"]:
        if name == HEADER:
            if 0 < len(value) <= MAX_ID and all(0x21 <= b <= 0x7E for b in value):
                return str(value, "ascii")
            break
    return os.urandom(12).hex()


class RequestLog:
    """An ASGI middleware: X-Request-ID on every response, one log line and metrics each."""

    def __init__(self, app: ASGIApp, routes: list[BaseRoute], metrics_on: bool) -> None:
        self.app = app
        self.metrics_on = metrics_on
        # Routes Starlette matches without leaving `route` in the scope (the docs pages).
        self.templates: dict[Callable[..., Any], str] = {}
        for route in routes:
            endpoint, path = getattr(route, "endpoint", None), getattr(route, "path", None)
            if endpoint is not None and isinstance(path, str):
                self.templates.setdefault(endpoint, path)
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        info = RequestInfo(request_id(scope))
        token = CURRENT.set(info)
        header = (HEADER, info.request_id.encode("ascii"))
        status = size = 0
        done = False

        def finish(error: Exception | None = None) -> None:
            nonlocal done
            done = True
            seconds = time.perf_counter() - started
            route = self._route(scope)
            if self.metrics_on:
                self._record(scope["method"], route, status or 499, seconds)
            self._log(scope, info, route, status or 499, seconds, size, error)

        async def send_with_id(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                # Counted before the client can see the end of the answer (so a scrape
                # or log read right after it finds it); a 500 waits for its exception.
                if not message.get("more_body", False) and status != 500:
                    finish()
            await send(message)

        error: Exception | None = None
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:  # answered already (Starlette re-raises after its 500)
            error = exc
            if status == 0:
                await _answer_500(send_with_id)
        finally:
            CURRENT.reset(token)
            if not done:
                finish(error)

    def _route(self, scope: Scope) -> str:
        route = scope.get("route")
        path = getattr(route, "path", None)
        if isinstance(path, str):
            return path
        endpoint = scope.get("endpoint")
        return self.templates.get(endpoint, UNMATCHED) if endpoint is not None else UNMATCHED

    def _record(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "OTHER"
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:
            series = (
                metrics.REQUESTS.labels(method, route, str(status)),
                metrics.REQUEST_SECONDS.labels(method, route),
            )
            if len(self._series) < 10_000:
                self._series[key] = series
        series[0].inc()
        series[1].observe(seconds)

    @staticmethod
    def _log(
        scope: Scope,
        info: RequestInfo,
        route: str,
        status: int,
        seconds: float,
        size: int,
        error: Exception | None,
    ) -> None:
        # A bug is an error; a fault (503, 507) a warning, its cause logged once a minute.
        level = (
            logging.ERROR if status == 500 else logging.WARNING if status > 500 else logging.INFO
        )
        # After the answer began (a client gone mid-stream): a short field, no traceback.
        late = error if error is not None and status != 500 else None
        if late is not None:
            level = max(level, logging.WARNING)
        if not log.isEnabledFor(level):
            return
        client = scope.get("client")
        fields = {
            "method": scope["method"],
            "route": route,
            "path": scope["path"],
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
            "bytes": size,
            "client": client[0] if client else None,
            "request_id": info.request_id,
            "key_id": info.key_id,
            "tenant_id": info.tenant_id,
            "error": f"{type(late).__name__}: {late}" if late is not None else None,
        }
        exc = error if late is None else None
        log.log(level, "request", exc_info=exc, extra={"fields": fields})


async def _answer_500(send: Send) -> None:
    """A 500 in the native error shape, for an exception nobody answered."""
    response = JSON(error_body("internal_error", INTERNAL), 500)
    await send({"type": "http.response.start", "status": 500, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})
