"""Ingestion health: what ingest did with the records it was sent, hour by hour."""

from __future__ import annotations

from typing import Any

from usagekit.core.clock import SYSTEM_CLOCK, Clock
from usagekit.core.windows import HOUR
from usagekit.services.caller import Caller
from usagekit.services.errors import InvalidInput
from usagekit.services.query_spec import parse_instant
from usagekit.store import Store

FIELDS = ("accepted", "duplicates", "conflicts", "rejected")
MAX_HOURS = 24 * 366


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


def ingestion(store: Store, caller: Caller, lo: int, hi: int) -> dict[str, Any]:
    """Totals over [lo, hi) and one row per hour (zeros where nothing arrived).

    The counters are per tenant, not per subject: a confined caller gets 403.
    """
    caller.whole_tenant("ingestion counts")
    found = {h.hour_ms: h for h in store.ingest_stats.hours(caller.tenant_id, lo, hi)}
    hours = []
    for start in range(lo, hi, HOUR):
        h = found.get(start)
        counts = [getattr(h, f) for f in FIELDS] if h else [0] * len(FIELDS)
        hours.append({"start": start, **dict(zip(FIELDS, counts, strict=True))})
    totals = {f: sum(h[f] for h in hours) for f in FIELDS}
    return {"from": lo, "to": hi, **totals, "hours": hours}
