"""`usagekit.Client`: the blocking client (httpx.Client underneath, connections reused)."""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Callable, Iterator, Mapping
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


def blocking(
    op: Callable[Concatenate[BaseClient, P], Op[T]],
) -> Callable[Concatenate[Client, P], T]:
    """An operation as a method that sends its calls and waits."""

    def method(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._run(op(self, *args, **kwargs))

    functools.update_wrapper(method, op)  # name and docstring for help()
    return method


class Client(BaseClient):
    """Blocking usagekit client; settings from arguments or USAGEKIT_URL / USAGEKIT_API_KEY.

    Use as a context manager (or call close()) to release connections.
    """

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float | httpx.Timeout = 30.0,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        **options: Any,
    ) -> None:
        super().__init__(url, api_key, **options)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=timeout, transport=transport)

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def _send(self, call: Call) -> httpx.Response:
        """Send one call, retrying as the policy says; error replies become SDK errors."""
        for attempt in itertools.count():
            outcome: httpx.Response | httpx.TransportError
            try:
                request = self._http.build_request(**self._request_args(call))
                outcome = self._http.send(request, stream=call.stream)
                if call.stream and outcome.status_code >= 400:
                    outcome.read()
                    outcome.close()
            except httpx.TransportError as exc:
                outcome = exc
            step = self._next_step(call, attempt, outcome)
            if isinstance(step, httpx.Response):
                return step
            time.sleep(step)
        raise AssertionError("unreachable")

    def request(
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
        return self._send(call)

    def _run(self, op: Op[T]) -> T:
        reply: Any = None
        failed: UsagekitError | None = None
        try:
            while True:
                # An error goes back into the operation, which may handle it (send splits on 413).
                call = op.send(reply) if failed is None else op.throw(failed)
                try:
                    reply, failed = self._send(call), None
                except UsagekitError as exc:
                    failed = exc
        except StopIteration as done:
            result: T = done.value
            return result

    send = blocking(ops.send)
    create_meter = blocking(ops.create_meter)
    meters = blocking(ops.meters)
    get_meter = blocking(ops.get_meter)
    delete_meter = blocking(ops.delete_meter)
    limits = blocking(limit_ops.limits)
    create_limit = blocking(limit_ops.create_limit)
    get_limit = blocking(limit_ops.get_limit)
    update_limit = blocking(limit_ops.update_limit)
    delete_limit = blocking(limit_ops.delete_limit)
    limit_status = blocking(limit_ops.limit_status)
    subject_limits = blocking(limit_ops.subject_limits)
    limit_subjects = blocking(limit_ops.limit_subjects)
    query = blocking(ops.query)
    summary = blocking(ops.summary)
    void = blocking(ops.void)
    clear_failure = blocking(ops.clear_failure)
    retry_failure = blocking(ops.retry_failure)
    registry = blocking(ops.registry)
    registry_add = blocking(ops.registry_add)
    registry_remove = blocking(ops.registry_remove)
    registry_retry = blocking(ops.registry_retry)
    create_tenant = blocking(ops.create_tenant)
    tenants = blocking(ops.tenants)
    create_key = blocking(ops.create_key)
    api_keys = blocking(ops.api_keys)
    revoke_key = blocking(ops.revoke_key)
    health = blocking(ops.health)
    webhooks = blocking(webhook_ops.webhooks)
    get_webhook = blocking(webhook_ops.get_webhook)
    create_webhook = blocking(webhook_ops.create_webhook)
    update_webhook = blocking(webhook_ops.update_webhook)
    delete_webhook = blocking(webhook_ops.delete_webhook)
    webhook_deliveries = blocking(webhook_ops.webhook_deliveries)
    retry_delivery = blocking(webhook_ops.retry_delivery)

    def _pages(
        self, path: str, params: list[tuple[str, str]], parse: Callable[[Any], T]
    ) -> Iterator[T]:
        cursor: str | None = None
        while True:
            items, cursor = ops.page_of(self._send(ops.page_call(path, params, cursor)), parse)
            yield from items
            if cursor is None:
                return

    def events(
        self,
        start: Instant | None = None,
        end: Instant | None = None,
        type: str | None = None,
        subject: str | None = None,
        page_size: int = 1000,
    ) -> Iterator[Event]:
        """Stored events, newest first, voided ones included; follows cursors lazily."""
        params = ops.events_params(start, end, type, subject, page_size)
        return self._pages("/v1/events", params, Event.from_json)

    def alerts(
        self,
        subject: str | None = None,
        type: str | None = None,
        limit: str | None = None,
        page_size: int = 1000,
    ) -> Iterator[Alert]:
        """Alerts (limit thresholds crossed and cleared), newest first; follows cursors lazily."""
        params = webhook_ops.alerts_params(subject, type, limit, page_size)
        return self._pages("/v1/alerts", params, Alert.from_json)

    def failures(self, page_size: int = 1000) -> Iterator[Failure]:
        """Rejected and unprocessable records, newest first; follows cursors lazily."""
        return self._pages("/v1/failures", [("limit", str(page_size))], Failure.from_json)

    def iter_export(
        self, start: Instant | None = None, end: Instant | None = None, type: str | None = None
    ) -> Iterator[bytes]:
        """The CSV export as byte chunks, as the server streams them."""
        reply = self._send(ops.export_call(start, end, type))
        try:
            yield from reply.iter_bytes()
        except httpx.TransportError as exc:
            raise broken_stream(exc) from exc
        finally:
            reply.close()

    def export(
        self,
        dest: str | Path | IO[bytes],
        start: Instant | None = None,
        end: Instant | None = None,
        type: str | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> int:
        """Write every event in [start, end) as CSV to a path or binary file; returns rows.

        Memory stays flat: chunks go to `dest` as they arrive. `on_progress` gets
        the number of bytes of each chunk.
        """
        with Sink(dest) as sink:
            for chunk in self.iter_export(start, end, type):
                sink.write(chunk)
                if on_progress is not None:
                    on_progress(len(chunk))
            return sink.rows
