"""Ingestion health: what ingest did with the records it was sent, hour by hour."""

from __future__ import annotations

from dataclasses import dataclass

from usagekit.core.clock import SYSTEM_CLOCK, Clock
from usagekit.core.windows import HOUR
from usagekit.services.caller import Caller
from usagekit.services.errors import InvalidInput
from usagekit.services.queries.spec import parse_instant
from usagekit.store import Store
from usagekit.store.ingest_stats import IngestHour

MAX_HOURS = 24 * 366
Counts = IngestHour  # a report's rows: one hour, or the whole range


@dataclass(frozen=True, slots=True)
class IngestionReport:
    """Counts over [start, end) ms in all (`total`, whose start is `start`) and per hour."""

    start: int
    end: int
    total: Counts
    hours: list[Counts]


def hour_range(start: str | None, end: str | None, clock: Clock = SYSTEM_CLOCK) -> tuple[int, int]:
    """[from, to) widened to whole UTC hours; default the current hour and the 23 before."""
    now = clock.now_ms()
    hi = parse_instant(end, "to") if end else now
    hi = -(-hi // HOUR) * HOUR if end else hi - hi % HOUR + HOUR
    lo = parse_instant(start, "from") if start else hi - 24 * HOUR
    lo -= lo % HOUR
    if hi <= lo:
        raise InvalidInput("'to' must be after 'from'", "to")
    if (hi - lo) // HOUR > MAX_HOURS:
        raise InvalidInput(f"a range may span at most {MAX_HOURS} hours", "from")
    return lo, hi


def ingestion(store: Store, caller: Caller, lo: int, hi: int) -> IngestionReport:
    """Totals over [lo, hi) and one row per hour (zeros where nothing arrived).

    The counters are per tenant, not per subject: a confined caller gets 403.
    """
    caller.whole_tenant("ingestion counts")
    found = {h.start: h for h in store.ingest_stats.hours(caller.tenant_id, lo, hi)}
    hours = [found.get(start) or Counts(start) for start in range(lo, hi, HOUR)]
    total = Counts(
        lo,
        sum(h.accepted for h in hours),
        sum(h.duplicates for h in hours),
        sum(h.conflicts for h in hours),
        sum(h.rejected for h in hours),
    )
    return IngestionReport(lo, hi, total, hours)
