"""The one clock: what "now" is, passed to whatever stamps or defaults by it; and the end of time.

The store carries a `Clock` (received, voided, failed, created and revoked
stamps), and the services read it for default windows and token lifetimes, so
a test can fix "now" instead of sleeping or bracketing the real clock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

END_OF_TIME = 253_402_300_800_000  # 10000-01-01T00:00:00Z: an edge past every instant we take
MAX_TIME_MS = END_OF_TIME - 1  # 9999-12-31T23:59:59.999Z, the last instant an event may have


class Clock(Protocol):
    def now_ms(self) -> int:
        """Unix time in whole milliseconds."""
        ...


class SystemClock:
    """The real time."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


@dataclass
class FixedClock:
    """A time that moves only when told to (tests); pickles, so a writer process gets a copy."""

    at_ms: int

    def now_ms(self) -> int:
        return self.at_ms

    def advance(self, ms: int) -> None:
        self.at_ms += ms


SYSTEM_CLOCK = SystemClock()
