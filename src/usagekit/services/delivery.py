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
import ipaddress
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
REFUSED_WAIT_MS = 24 * 3_600_000  # a refused address is tried again after this long
RESPONSE_KEPT = 500  # bytes of a receiver's answer kept with each attempt
MAX_IN_FLIGHT = 32  # sends at once, every endpoint together
PER_ENDPOINT = 16  # sends at once to one endpoint: a slow one cannot take every slot
POLL_SECONDS = 0.5  # how often new alerts are looked for
FLUSH_SECONDS = 0.05  # longest a finished send waits to be recorded while others run
PURGE_BATCH = 1000  # deliveries purged per write
PURGE_EVERY_MS = 600_000  # how often old deliveries are looked for


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
def claim(
    store: Store, now_ms: int, lease_ms: int, limit: int, busy: dict[str, int], per_endpoint: int
) -> list[Claim]:
    return store.deliveries.claim(now_ms, lease_ms, limit, busy=busy, per_endpoint=per_endpoint)


@write
def record(store: Store, outcomes: list[Outcome], disable_after_ms: int) -> list[str]:
    return store.deliveries.record(outcomes, disable_after_ms)


@write
def purge(store: Store, ids: list[int], before_ms: int) -> int:
    return store.deliveries.purge(ids, before_ms)


class Refused(Exception):
    """An address webhooks may not reach (settings.webhook_allow_link_local)."""


class Unresolved(Exception):
    """A host name that did not resolve (retried like any failed attempt)."""


def body_of(claim: Claim) -> bytes:
    """The payload: {"type", "timestamp", "data": the alert}, the same on every attempt."""
    a = claim.alert
    return orjson.dumps(
        {"type": a.type, "timestamp": format_time(a.created_ms), "data": alert_json(a)},
        default=str,
    )


class Deliverer:
    """Sends due deliveries, up to `max_in_flight` at once and `per_endpoint` to one
    endpoint. It leases up to twice that many, so the next sends are at hand when
    some finish, and records finished ones and leases more in batches meanwhile."""

    def __init__(
        self,
        store: Store,
        writer: Writer,
        signing_key: Callable[[str, int], bytes],
        *,
        policy: RetryPolicy,
        timeout: float = 10.0,
        allow_link_local: bool = False,
        retention_ms: int = 30 * 86_400_000,
        clock: Clock = SYSTEM_CLOCK,
        max_in_flight: int = MAX_IN_FLIGHT,
        per_endpoint: int = PER_ENDPOINT,
        purge_batch: int = PURGE_BATCH,
    ) -> None:
        self.store = store
        self.writer = writer
        self.signing_key = signing_key
        self.policy = policy
        self.timeout = timeout
        self.allow_link_local = allow_link_local
        self.retention_ms = retention_ms
        self.clock = clock  # real time by default: fixed_now must not freeze retries
        self.max_in_flight = max_in_flight
        self.per_endpoint = per_endpoint
        self.refill = max(1, max_in_flight // 2)  # record and lease after this many sends
        self.purge_batch = purge_batch
        # A leased delivery waits for at most one send ahead of it, then is sent.
        self.lease_ms = int(3 * timeout * 1000) + 5_000
        self._wake = asyncio.Event()
        self._client: httpx.AsyncClient | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._busy: dict[str, int] = {}  # endpoint id: its leased deliveries not yet sent
        self._slots = asyncio.Semaphore(max_in_flight)
        self._endpoint_slots: dict[str, asyncio.Semaphore] = {}
        self._done: list[Outcome] = []  # finished sends not yet recorded
        self._signers: dict[tuple[str, int], Webhook] = {}
        self._purge_at = 0  # when to look for old deliveries next
        self._more = False  # the last lease was full: more is probably due

    def wake(self) -> None:
        """Look for due work now (a delivery was made due by a request)."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled; a failing database or writer only delays it."""
        limits = httpx.Limits(
            max_connections=self.max_in_flight, max_keepalive_connections=self.max_in_flight
        )
        self._client = httpx.AsyncClient(
            timeout=self.timeout, follow_redirects=False, limits=limits
        )
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
            for task in self._sending:
                task.cancel()
            await asyncio.gather(*self._sending, return_exceptions=True)
            with contextlib.suppress(Exception):  # else their leases run out: sent again
                await asyncio.wait_for(self.flush(), 5)
            await self._client.aclose()

    async def step(self) -> float:
        """One round: record finished sends, purge, fan out, lease and start what is due;
        returns seconds to wait (a finishing send or a request may wake it sooner)."""
        await self.flush()
        now = self.clock.now_ms()
        if now >= self._purge_at:
            before = now - self.retention_ms
            old = await asyncio.to_thread(self.store.deliveries.purgeable, before, self.purge_batch)
            await self.writer.run(purge, old, before)
            self._purge_at = now if len(old) >= self.purge_batch else now + PURGE_EVERY_MS
        wait = POLL_SECONDS if not self._sending else FLUSH_SECONDS
        free = 2 * self.max_in_flight - len(self._sending)
        if free < self.refill:
            return wait
        if await asyncio.to_thread(self.store.deliveries.fan_out_waiting):
            await self.writer.run(fan_out, now)
            self._more = True
        if not self._more:
            due = await asyncio.to_thread(self.store.deliveries.next_due, now)
            if due is None or due > now:
                return wait if due is None else min(wait, (due - now) / 1000)
        busy = {e: n for e, n in self._busy.items() if n}
        claims = await self.writer.run(claim, now, self.lease_ms, free, busy, 2 * self.per_endpoint)
        self._more = len(claims) == free
        for c in claims:
            self._busy[c.endpoint_id] = self._busy.get(c.endpoint_id, 0) + 1
            task = asyncio.create_task(self._send_one(c))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        return 0 if self._more else wait

    async def flush(self) -> None:
        """Record the finished sends in one write."""
        if not self._done:
            return
        done, self._done = self._done, []
        try:
            disabled = await self.writer.run(record, done, self.policy.disable_after_ms)
        except BaseException:
            self._done = done + self._done  # recorded next round (the leases hold)
            raise
        for endpoint_id in disabled:
            log.warning("webhook endpoint %s disabled: it failed for too long", endpoint_id)

    async def _send_one(self, claim: Claim) -> None:
        endpoint = self._endpoint_slots.get(claim.endpoint_id)
        if endpoint is None:
            endpoint = self._endpoint_slots[claim.endpoint_id] = asyncio.Semaphore(
                self.per_endpoint
            )
        try:
            async with endpoint, self._slots:
                outcome = await self.send(claim)
        finally:
            self._busy[claim.endpoint_id] -= 1
            if not self._busy[claim.endpoint_id]:
                del self._busy[claim.endpoint_id]
                self._endpoint_slots.pop(claim.endpoint_id, None)
        self._done.append(outcome)
        if len(self._done) >= self.refill or len(self._sending) <= 1:
            self._wake.set()

    def signer(self, endpoint_id: str, version: int) -> Webhook:
        """The endpoint's Standard Webhooks signer (kept: deriving the key costs an HMAC)."""
        key = (endpoint_id, version)
        found = self._signers.get(key)
        if found is None:
            if len(self._signers) > 10_000:
                self._signers.clear()
            found = self._signers[key] = Webhook(self.signing_key(endpoint_id, version))
        return found

    async def send(self, claim: Claim) -> Outcome:
        """One attempt of one delivery, as an Outcome (never raises)."""
        body = body_of(claim)
        msg_id = f"msg_{claim.alert.id}"
        stamp = datetime.fromtimestamp(int(time.time()), UTC)
        signer = self.signer(claim.endpoint_id, claim.secret_version)
        headers = {
            "content-type": "application/json",
            "user-agent": f"usagekit/{__version__}",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(stamp.timestamp())),
            "webhook-signature": signer.sign(msg_id, stamp, body.decode()),
        }
        at = self.clock.now_ms()
        started = time.perf_counter()
        status: int | None = None
        response: str | None = None
        error: str | None = None
        refused = False
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
            error, refused = f"{exc}; next attempt in 24 h", True
        except Unresolved as exc:
            error = str(exc)
        except httpx.TimeoutException:
            error = f"timed out after {self.timeout:g} s"
        except Exception as exc:  # any other failure is this attempt's, never the batch's
            error = f"{type(exc).__name__}: {exc}"[:500]
        latency = int((time.perf_counter() - started) * 1000)
        ok = error is None
        attempts = claim.attempts + 1
        if refused:  # no use retrying soon: the address will not change by itself
            next_at: int | None = at + REFUSED_WAIT_MS
        else:
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
            addresses = [str(ipaddress.ip_address(host))]  # a literal: nothing to resolve
        except ValueError:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, port, type=socket.SOCK_STREAM
                )
            except OSError as exc:
                raise Unresolved(f"cannot resolve {host}: {exc}") from None
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
