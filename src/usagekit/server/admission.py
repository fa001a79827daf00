"""Admission control: a bound on ingest work in flight, so overload is refused, not queued.

Every ingest request counts from before its body is read until the writer has
answered it: reading, parsing and waiting for the writer all hold memory and add
to the wait of the requests behind. Past either bound (requests or body bytes) a
request gets 503 with Retry-After at once, so every answer comes within seconds
however many clients send, and queries keep their share of the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from usagekit.services import metrics
from usagekit.services.faults import Overloaded


class Admission:
    """Counts ingest requests in flight and their bytes (one event loop, so no lock)."""

    def __init__(self, max_requests: int, max_bytes: int) -> None:
        self.max_requests = max_requests
        self.max_bytes = max_bytes
        self.requests = 0
        self.bytes = 0

    @contextmanager
    def admit(self, size: int) -> Iterator[None]:
        """Hold a place for a body of `size` bytes, or raise Overloaded (503) at once.

        A lone request is always admitted, however large (the body limit bounds it).
        """
        if self.requests >= self.max_requests:
            metrics.ADMISSION_REJECTIONS.labels("requests").inc()
            raise Overloaded(
                f"the server is at its limit of {self.max_requests} ingest requests in "
                "flight; nothing was stored, retry shortly"
            )
        if self.requests and self.bytes + size > self.max_bytes:
            metrics.ADMISSION_REJECTIONS.labels("bytes").inc()
            raise Overloaded(
                f"the server is at its limit of {self.max_bytes} bytes of ingest bodies "
                "in flight; nothing was stored, retry shortly"
            )
        self.requests += 1
        self.bytes += size
        try:
            yield
        finally:
            self.requests -= 1
            self.bytes -= size
