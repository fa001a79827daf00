"""What every request can reach: the store, the writer and the services."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool

from usagekit.core.records import ApiKey
from usagekit.server.admission import Admission
from usagekit.server.settings import Settings
from usagekit.services.admin import Admin, hash_key
from usagekit.services.ingest import MeterLookup
from usagekit.services.query import Query
from usagekit.services.writer import ProcessWriter, ThreadWriter, Writer
from usagekit.store import Store


@dataclass(slots=True)
class RateLimiter:
    """Token bucket per key: `rate` requests per second, bursts up to `burst`."""

    rate: float
    burst: float
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def check(self, key_id: str) -> float:
        """0 when allowed, else the seconds to wait."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        tokens, stamp = self._buckets.get(key_id, (self.burst, now))
        tokens = min(self.burst, tokens + (now - stamp) * self.rate)
        if tokens >= 1:
            self._buckets[key_id] = (tokens - 1, now)
            return 0.0
        self._buckets[key_id] = (tokens, now)
        return (1 - tokens) / self.rate


class Context:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        # Ingest is bounded by admission; the margin leaves room for other writes.
        queue = 2 * settings.max_inflight
        self.writer: Writer = (
            ProcessWriter(settings.db, settings.synchronous, queue)
            if settings.writer == "process"
            else ThreadWriter(store, queue)
        )
        self.admission = Admission(settings.max_inflight, settings.max_inflight_bytes)
        self.admin = Admin(store)
        self.query = Query(store)
        self.meters = MeterLookup(store)
        burst = settings.rate_burst or max(1.0, 2 * settings.rate_limit)
        self.limiter = RateLimiter(settings.rate_limit, burst)
        self._keys: dict[str, tuple[float, ApiKey | None]] = {}

    async def authenticate(self, secret: str) -> ApiKey | None:
        """The live key for a secret; looked up at most every key_cache_seconds."""
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
