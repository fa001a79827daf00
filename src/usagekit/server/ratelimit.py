"""Token buckets shared by every worker process of one server.

`usagekit serve --workers N` creates a small file of bucket slots before uvicorn
starts its workers and names it in USAGEKIT_RATE_TABLE; each worker maps it and
updates a slot under an exclusive flock, so a key or an address has one budget
whatever worker its requests reach. A single process keeps the same table in
anonymous memory. CLOCK_MONOTONIC is system-wide, so stamps compare across processes.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

SLOTS = 1 << 16
PROBES = 8
# A slot: key fingerprint (0 = empty), tokens, when they were counted, when the bucket is full.
SLOT = struct.Struct("<Qddd")
TABLE_BYTES = SLOTS * SLOT.size


def create_table_file() -> str:
    """A new, zeroed (all slots empty) table file; the caller removes it when done."""
    fd, path = tempfile.mkstemp(prefix="usagekit-rate-", suffix=".table")
    try:
        os.ftruncate(fd, TABLE_BYTES)
    finally:
        os.close(fd)
    return path


class BucketTable:
    """Fixed slots of token buckets, addressed by a hash of their name.

    A name probes PROBES slots from its hash; when all are taken by others it
    takes the one that refills first (a full bucket is the same as none).
    """

    def __init__(self, path: str | None = None) -> None:
        self._fd: int | None = None
        if path is None:
            self._map = mmap.mmap(-1, TABLE_BYTES)
        else:
            self._fd = os.open(path, os.O_RDWR)
            self._map = mmap.mmap(self._fd, TABLE_BYTES)
        self._thread_lock = threading.Lock()

    def close(self) -> None:
        self._map.close()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock:
            if self._fd is None:
                yield
                return
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def take(self, name: str, rate: float, burst: float, *, spend: bool = True) -> float:
        """Spend one token of `name`'s bucket: 0 when there was one, else the seconds to wait.

        With spend=False only look: the wait, without spending.
        """
        fp = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest()) or 1
        now = time.monotonic()
        with self._locked():
            at = self._slot(fp, now)
            found, tokens, stamp, _ = SLOT.unpack_from(self._map, at)
            if found != fp:
                if not spend:
                    return 0.0
                tokens, stamp = burst, now
            tokens = min(burst, tokens + max(0.0, now - stamp) * rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / rate
            if spend and wait == 0:
                tokens -= 1
            full_at = now + (burst - tokens) / rate
            SLOT.pack_into(self._map, at, fp, tokens, now, full_at)
        return wait

    def _slot(self, fp: int, now: float) -> int:
        """The offset of fp's slot: its own, else an empty one, else the one full soonest."""
        first = fp % SLOTS
        best, best_full = 0, float("inf")
        for i in range(PROBES):
            at = ((first + i) % SLOTS) * SLOT.size
            found, _, _, full_at = SLOT.unpack_from(self._map, at)
            if found == fp:
                return at
            soon = now if found == 0 else full_at
            if soon < best_full:
                best, best_full = at, soon
        return best


@dataclass(slots=True)
class RateLimiter:
    """Token buckets of one kind (per key, per address) in a shared table.

    `rate` requests per second, bursts up to `burst`; rate 0 turns it off.
    """

    rate: float
    burst: float
    table: BucketTable
    kind: str = "key"

    def check(self, name: str) -> float:
        """Spend a token: 0 when allowed, else the seconds to wait."""
        if self.rate <= 0:
            return 0.0
        return self.table.take(f"{self.kind}:{name}", self.rate, self.burst)

    def waiting(self, name: str) -> float:
        """The seconds until `name` has a token again (0 if it has one), spending none."""
        if self.rate <= 0:
            return 0.0
        return self.table.take(f"{self.kind}:{name}", self.rate, self.burst, spend=False)
