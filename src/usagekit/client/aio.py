"""`usagekit.AsyncClient`: the same operations as `Client`, awaited (httpx.AsyncClient)."""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Concatenate, ParamSpec, TypeVar

import httpx

from usagekit.client import limits as limit_ops
from usagekit.client import ops, webhook_ops
from usagekit.client.base import BaseClient, Call, Instant, Op, request_call
from usagekit.client.export import Sink, broken_stream
from usagekit.client.models import Event, Failure
from usagekit.client.webhook_models import Alert
from usagekit.errors import UsagekitError

P = ParamSpec("P")
T = TypeVar("T")


def awaitable(
    op: Callable[Concatenate[BaseClient, P], Op[T]],
) -> Callable[Concatenate[AsyncClient, P], Coroutine[Any, Any, T]]:
    """An operation as a coroutine method that sends its calls."""

    async def method(self: AsyncClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._run(op(self, *args, **kwargs))

    functools.update_wrapper(method, op)  # name and docstring for help()
    return method


class AsyncClient(BaseClient):
    """Async usagekit client; settings from arguments or USAGEKIT_URL / USAGEKIT_API_KEY.

    Use with `async with` (or await aclose()) to release connections.
    """

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float | httpx.Timeout = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        **options: Any,
    ) -> None:
        super().__init__(url, api_key, **options)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout, transport=transport)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _send(self, call: Call) -> httpx.Response:
        """Send one call, retrying as the policy says; error replies become SDK errors."""
        for attempt in itertools.count():
            outcome: httpx.Response | httpx.TransportError
            try:
                request = self._http.build_request(**self._request_args(call))
                outcome = await self._http.send(request, stream=call.stream)
                if call.stream and outcome.status_code >= 400:
                    await outcome.aread()
                    await outcome.aclose()
            except httpx.TransportError as exc:
                outcome = exc
            step = self._next_step(call, attempt, outcome)
            if isinstance(step, httpx.Response):
                return step
            await asyncio.sleep(step)
        raise AssertionError("unreachable")

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | list[tuple[str, str]] | None = None,
        content: bytes | None = None,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        check: bool = True,
    ) -> httpx.Response:
        """Send one request to `url + path` with the SDK's retries; the reply, read.

        The transport the operations use, for calls they do not cover (vendor-compatible
        clients are built on it). `headers` go over the client's. A call is retried on
        connection errors and 429/502/503/504/507 when idempotent (by default: GET, HEAD,
        OPTIONS, PUT, DELETE). An error status raises usagekit.errors, or with
        `check=False` is returned once retries are spent.
        """
        call = request_call(
            method,
            path,
            params=params,
            content=content,
            content_type=content_type,
            headers=headers,
            idempotent=idempotent,
            check=check,
        )
        return await self._send(call)

    async def _run(self, op: Op[T]) -> T:
        reply: Any = None
        failed: UsagekitError | None = None
        try:
            while True:
                # An error goes back into the operation, which may handle it (send splits on 413).
                call = op.send(reply) if failed is None else op.throw(failed)
                try:
                    reply, failed = await self._send(call), None
                except UsagekitError as exc:
                    failed = exc
        except StopIteration as done:
            result: T = done.value
            return result

    send = awaitable(ops.send)
    create_meter = awaitable(ops.create_meter)
    meters = awaitable(ops.meters)
    get_meter = awaitable(ops.get_meter)
    delete_meter = awaitable(ops.delete_meter)
    limits = awaitable(limit_ops.limits)
    create_limit = awaitable(limit_ops.create_limit)
    get_limit = awaitable(limit_ops.get_limit)
    update_limit = awaitable(limit_ops.update_limit)
    delete_limit = awaitable(limit_ops.delete_limit)
    limit_status = awaitable(limit_ops.limit_status)
    subject_limits = awaitable(limit_ops.subject_limits)
    limit_subjects = awaitable(limit_ops.limit_subjects)
    query = awaitable(ops.query)
    summary = awaitable(ops.summary)
    void = awaitable(ops.void)
    clear_failure = awaitable(ops.clear_failure)
    retry_failure = awaitable(ops.retry_failure)
    registry = awaitable(ops.registry)
    registry_add = awaitable(ops.registry_add)
    registry_remove = awaitable(ops.registry_remove)
    registry_retry = awaitable(ops.registry_retry)
    create_tenant = awaitable(ops.create_tenant)
    tenants = awaitable(ops.tenants)
    create_key = awaitable(ops.create_key)
    api_keys = awaitable(ops.api_keys)
    revoke_key = awaitable(ops.revoke_key)
    health = awaitable(ops.health)
    webhooks = awaitable(webhook_ops.webhooks)
    get_webhook = awaitable(webhook_ops.get_webhook)
    create_webhook = awaitable(webhook_ops.create_webhook)
    update_webhook = awaitable(webhook_ops.update_webhook)
    delete_webhook = awaitable(webhook_ops.delete_webhook)
    webhook_deliveries = awaitable(webhook_ops.webhook_deliveries)
    retry_delivery = awaitable(webhook_ops.retry_delivery)

    async def _pages(
        self, path: str, params: list[tuple[str, str]], parse: Callable[[Any], T]
    ) -> AsyncIterator[T]:
        cursor: str | None = None
        while True:
            reply = await self._send(ops.page_call(path, params, cursor))
            items, cursor = ops.page_of(reply, parse)
            for item in items:
                yield item
            if cursor is None:
                return

    def events(
        self,
        start: Instant | None = None,
        end: Instant | None = None,
        type: str | None = None,
        subject: str | None = None,
        page_size: int = 1000,
    ) -> AsyncIterator[Event]:
        """Stored events, newest first, voided ones included: `async for e in c.events()`."""
        params = ops.events_params(start, end, type, subject, page_size)
        return self._pages("/v1/events", params, Event.from_json)

    def alerts(
        self,
        subject: str | None = None,
        type: str | None = None,
        limit: str | None = None,
        page_size: int = 1000,
    ) -> AsyncIterator[Alert]:
        """Alerts, newest first: `async for a in c.alerts()`."""
        params = webhook_ops.alerts_params(subject, type, limit, page_size)
        return self._pages("/v1/alerts", params, Alert.from_json)

    def failures(self, page_size: int = 1000) -> AsyncIterator[Failure]:
        """Rejected and unprocessable records, newest first: `async for f in c.failures()`."""
        return self._pages("/v1/failures", [("limit", str(page_size))], Failure.from_json)

    async def iter_export(
        self, start: Instant | None = None, end: Instant | None = None, type: str | None = None
    ) -> AsyncIterator[bytes]:
        """The CSV export as byte chunks, as the server streams them."""
        reply = await self._send(ops.export_call(start, end, type))
        try:
            async for chunk in reply.aiter_bytes():
                yield chunk
        except httpx.TransportError as exc:
            raise broken_stream(exc) from exc
        finally:
            await reply.aclose()

    async def export(
        self,
        dest: str | Path | IO[bytes],
        start: Instant | None = None,
        end: Instant | None = None,
        type: str | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> int:
        """Write every event in [start, end) as CSV to a path or binary file; returns rows."""
        with Sink(dest) as sink:
            async for chunk in self.iter_export(start, end, type):
                sink.write(chunk)
                if on_progress is not None:
                    on_progress(len(chunk))
            return sink.rows
