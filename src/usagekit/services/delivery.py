"""Webhook delivery: alerts fanned out to endpoints and sent, signed, at least once.

A `Deliverer` runs beside the writer as an asyncio task of each API process,
never in a request. Its state is the tables (store.deliveries), changed only
through the writer: fan out new alerts, lease due deliveries, send them (Standard
Webhooks: webhook-id `msg_<alert id>`, the same on every retry), record each
attempt and schedule the next with exponential backoff and jitter. A process that
dies mid-send leaves a lease that runs out; another sends again (at least once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import orjson
from standardwebhooks import Webhook

from usagekit import __version__
from usagekit.core.clock import SYSTEM_CLOCK, Clock
from usagekit.core.events import format_time
from usagekit.services.alerts import alert_json
from usagekit.services.allowed_writes import write
from usagekit.services.webhooks import blocked
from usagekit.services.writer import Writer
from usagekit.store import Store
from usagekit.store.deliveries import Claim, Outcome

log = logging.getLogger("usagekit.webhooks")
DISABLE_AFTER_MS = 24 * 3_600_000  # an endpoint failing every attempt this long is disabled
MAX_WAIT_MS = 2 * 3_600_000  # the longest wait between two retries
RESPONSE_KEPT = 500  # bytes of a receiver's answer kept with each attempt
BATCH = 32  # deliveries leased (and sent concurrently) at once
POLL_SECONDS = 0.5  # how often new alerts are looked for


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Waits between attempts: first_ms, then doubling up to MAX_WAIT_MS, for total_ms."""

    first_ms: int = 5_000
    total_ms: int = 86_400_000
    disable_after_ms: int = DISABLE_AFTER_MS

    def waits(self) -> list[int]:
        out: list[int] = []
        wait = self.first_ms
        while sum(out) < self.total_ms:
            out.append(wait)
            wait = min(2 * wait, MAX_WAIT_MS)
        return out

    def next_attempt(self, attempts: int, now_ms: int, jitter: float) -> int | None:
        """When to try again after `attempts` failed ones (jitter in [0, 1)); None: give up."""
        waits = self.waits()
        if attempts > len(waits):
            return None
        return now_ms + int(waits[attempts - 1] * (1 + jitter / 2))


# -- writes: run in order by the writer (services.allowed_writes) --


@write
def fan_out(store: Store, now_ms: int) -> int:
    return store.deliveries.fan_out(now_ms)


@write
def claim(store: Store, now_ms: int, lease_ms: int, limit: int) -> list[Claim]:
    return store.deliveries.claim(now_ms, lease_ms, limit)


@write
def record(store: Store, outcomes: list[Outcome], disable_after_ms: int) -> list[str]:
    return store.deliveries.record(outcomes, disable_after_ms)


class Refused(Exception):
    """An address webhooks may not reach."""


def body_of(claim: Claim) -> bytes:
    """The payload: {"type", "timestamp", "data": the alert}, the same on every attempt."""
    a = claim.alert
    return orjson.dumps(
        {"type": a.type, "timestamp": format_time(a.created_ms), "data": alert_json(a)},
        default=str,
    )


class Deliverer:
    def __init__(
        self,
        store: Store,
        writer: Writer,
        signing_key: Callable[[str, int], bytes],
        *,
        policy: RetryPolicy,
        timeout: float = 10.0,
        allow_link_local: bool = False,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.store = store
        self.writer = writer
        self.signing_key = signing_key
        self.policy = policy
        self.timeout = timeout
        self.allow_link_local = allow_link_local
        self.clock = clock  # real time by default: fixed_now must not freeze retries
        self.lease_ms = int(2 * timeout * 1000) + 5_000
        self._wake = asyncio.Event()
        self._client: httpx.AsyncClient | None = None

    def wake(self) -> None:
        """Look for due work now (a delivery was made due by a request)."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled; a failing database or writer only delays it."""
        self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        try:
            while True:
                try:
                    wait = await self.step()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("webhook delivery paused: %s: %s", type(exc).__name__, exc)
                    wait = 5 * POLL_SECONDS
                if wait > 0:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), wait)
        finally:
            await self._client.aclose()

    async def step(self) -> float:
        """One round: fan out, lease and send what is due; seconds to wait before the next."""
        now = self.clock.now_ms()
        if await asyncio.to_thread(self.store.deliveries.fan_out_waiting):
            await self.writer.run(fan_out, now)
        due = await asyncio.to_thread(self.store.deliveries.next_due, now)
        if due is None or due > now:
            return POLL_SECONDS if due is None else min(POLL_SECONDS, (due - now) / 1000)
        claims = await self.writer.run(claim, now, self.lease_ms, BATCH)
        if not claims:
            return POLL_SECONDS
        outcomes = await asyncio.gather(*(self.send(c) for c in claims))
        disabled = await self.writer.run(record, list(outcomes), self.policy.disable_after_ms)
        for endpoint_id in disabled:
            log.warning("webhook endpoint %s disabled: it failed for too long", endpoint_id)
        return 0

    async def send(self, claim: Claim) -> Outcome:
        """One attempt of one delivery, as an Outcome (never raises)."""
        body = body_of(claim)
        msg_id = f"msg_{claim.alert.id}"
        stamp = datetime.fromtimestamp(int(time.time()), UTC)
        secret = self.signing_key(claim.endpoint_id, claim.secret_version)
        headers = {
            "content-type": "application/json",
            "user-agent": f"usagekit/{__version__}",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(stamp.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, stamp, body.decode()),
        }
        at = self.clock.now_ms()
        started = time.perf_counter()
        status: int | None = None
        response: str | None = None
        error: str | None = None
        try:
            url, extensions = await self.pin(claim.url, headers)
            assert self._client is not None, "deliverer not running"
            async with self._client.stream(
                "POST", url, content=body, headers=headers, extensions=extensions
            ) as reply:
                status = reply.status_code
                kept = bytearray()
                async for chunk in reply.aiter_bytes():
                    kept += chunk
                    if len(kept) >= RESPONSE_KEPT:
                        break
                response = kept[:RESPONSE_KEPT].decode("utf-8", "replace")
            if not 200 <= status < 300:
                error = f"status {status}"
        except Refused as exc:
            error = str(exc)
        except httpx.TimeoutException:
            error = f"timed out after {self.timeout:g} s"
        except Exception as exc:  # any other failure is this attempt's, never the batch's
            error = f"{type(exc).__name__}: {exc}"[:500]
        latency = int((time.perf_counter() - started) * 1000)
        ok = error is None
        attempts = claim.attempts + 1
        next_at = None if ok else self.policy.next_attempt(attempts, at, random.random())
        return Outcome(
            claim.delivery_id, claim.endpoint_id, at, ok, status, latency, error, response, next_at
        )

    async def pin(self, url: str, headers: dict[str, str]) -> tuple[httpx.URL, dict[str, str]]:
        """The URL with its host resolved and checked now, pinned to the address checked
        (so a name cannot resolve elsewhere between check and connect)."""
        parsed = httpx.URL(url)
        host = parsed.host
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            raise Refused(f"cannot resolve {host}: {exc}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not self.allow_link_local:
            for address in addresses:
                if blocked(address):
                    raise Refused(
                        f"refused: {host} resolves to {address}, a link-local or cloud "
                        "metadata address (setting webhook_allow_link_local allows it)"
                    )
        headers["host"] = parsed.netloc.decode("ascii")
        extensions = {"sni_hostname": host} if parsed.scheme == "https" else {}
        return parsed.copy_with(host=addresses[0]), extensions
