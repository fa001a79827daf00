"""Hourly ingest counters per tenant (accepted, duplicates, conflicts, rejected).

Duplicates leave no row behind, so ingestion health cannot be read back from the
events; the write transaction bumps one counter row per tenant and received hour.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import Connection, Engine, select, text

from usagekit.core.windows import HOUR
from usagekit.store.schema import ingest_stats

_BUMP = text(
    "INSERT INTO ingest_stats (tenant_id, hour, accepted, duplicates, conflicts, rejected) "
    "VALUES (:tenant_id, :hour, :accepted, :duplicates, :conflicts, :rejected) "
    "ON CONFLICT (tenant_id, hour) DO UPDATE SET "
    "accepted = ingest_stats.accepted + excluded.accepted, "
    "duplicates = ingest_stats.duplicates + excluded.duplicates, "
    "conflicts = ingest_stats.conflicts + excluded.conflicts, "
    "rejected = ingest_stats.rejected + excluded.rejected"
)


@dataclass(slots=True)
class Counts:
    """One tenant's counts over the batches of one write transaction."""

    accepted: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0


@dataclass(frozen=True, slots=True)
class IngestHour:
    """What ingest did with the records it received from `start` (ms) on: an hour, or more."""

    start: int
    accepted: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0


def bump(conn: Connection, counts: dict[int, Counts], received_ms: int) -> None:
    """Add each tenant's counts to its row of the received hour."""
    hour = received_ms - received_ms % HOUR
    rows = [
        {"tenant_id": tid, "hour": hour, **asdict(tally)}
        for tid, tally in counts.items()
        if tally != Counts()
    ]
    if rows:
        conn.execute(_BUMP, rows)


class IngestStats:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def hours(self, tenant_id: int, lo: int, hi: int) -> list[IngestHour]:
        """The tenant's counter rows whose hour starts in [lo, hi), oldest first."""
        s = ingest_stats.c
        query = (
            select(s.hour, s.accepted, s.duplicates, s.conflicts, s.rejected)
            .where(s.tenant_id == tenant_id, s.hour >= lo, s.hour < hi)
            .order_by(s.hour)
        )
        with self.engine.connect() as conn:
            return [IngestHour(*map(int, row)) for row in conn.execute(query)]
