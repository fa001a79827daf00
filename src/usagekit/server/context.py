"""What every request can reach: the store, the writer and the services."""

from __future__ import annotations

import math
import time

from starlette.concurrency import run_in_threadpool

from usagekit.core.records import ApiKey
from usagekit.server.admission import Admission
from usagekit.server.errors import ApiError
from usagekit.server.ratelimit import BucketTable, RateLimiter
from usagekit.server.secret import derive, server_secret
from usagekit.server.settings import Settings
from usagekit.services.admin import Admin, hash_key
from usagekit.services.delivery import Deliverer, RetryPolicy
from usagekit.services.ingest import MeterLookup
from usagekit.services.queries.series import Query
from usagekit.services.writer import ProcessWriter, ThreadWriter, Writer
from usagekit.store import Store


class Context:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.clock = store.clock  # "now" for routes: the store's, so tests can fix it
        # Ingest is bounded by admission; the margin leaves room for other writes.
        queue = 2 * settings.max_inflight
        self.writer: Writer = (
            ProcessWriter(
                settings.db, settings.synchronous, queue, store.clock, settings.log_format
            )
            if settings.writer == "process"
            else ThreadWriter(store, queue)
        )
        self.admission = Admission(settings.max_inflight, settings.max_inflight_bytes)
        self.admin = Admin(store)
        self.query = Query(store)
        self.meters = MeterLookup(store)
        self.buckets = BucketTable(settings.rate_table)
        burst = settings.rate_burst or max(1.0, 2 * settings.rate_limit)
        self.limiter = RateLimiter(settings.rate_limit, burst, self.buckets)
        fail_rate = settings.auth_failure_limit
        self.failures = RateLimiter(fail_rate, max(10.0, 10 * fail_rate), self.buckets, "failed")
        self._keys: dict[str, tuple[float, ApiKey | None]] = {}
        self._secret: bytes | None = None
        policy = RetryPolicy(
            first_ms=int(settings.webhook_first_retry * 1000),
            total_ms=int(settings.webhook_retry_for * 1000),
        )
        self.deliverer = Deliverer(
            store,
            self.writer,
            self.webhook_key,
            policy=policy,
            timeout=settings.webhook_timeout,
            allow_link_local=settings.webhook_allow_link_local,
            retention_ms=int(settings.webhook_retention_days * 86_400_000),
        )

    def secret(self) -> bytes:
        """The server secret (server.secret), read or made on first use."""
        if self._secret is None:
            self._secret = server_secret(self.settings)
        return self._secret

    def webhook_key(self, endpoint_id: str, version: int) -> bytes:
        """An endpoint's signing key: never stored, derived from the server secret."""
        return derive(self.secret(), "webhook", endpoint_id, version)

    async def authenticate(self, secret: str, client: str) -> ApiKey | None:
        """The live key for a secret (looked up at most every key_cache_seconds), or None.

        Each miss spends one of the failure budget of `client` (an address); while
        it is spent every attempt from there gets 429, so keys cannot be guessed at speed.
        """
        self.refuse_while_failing(client)
        key = await self._lookup(secret)
        if key is None:
            self.failed(client)
        return key

    def failed(self, client: str) -> None:
        """Count a failed authentication from `client`."""
        self.failures.check(client)

    def refuse_while_failing(self, client: str) -> None:
        """429 while `client` has spent its budget of failed authentications."""
        wait = self.failures.waiting(client)
        if wait > 0:
            raise ApiError(
                429,
                f"too many failed authentications from this address "
                f"(limit {self.settings.auth_failure_limit:g}/s); retry later",
                headers={"Retry-After": self.retry_after(wait)},
            )

    async def _lookup(self, secret: str) -> ApiKey | None:
        digest = hash_key(secret)
        now = time.monotonic()
        hit = self._keys.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        key = await run_in_threadpool(self.admin.authenticate, secret)
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[digest] = (now + self.settings.key_cache_seconds, key)
        return key

    def forget_keys(self) -> None:
        self._keys.clear()

    @staticmethod
    def retry_after(seconds: float) -> str:
        return str(max(1, math.ceil(seconds)))
