"""Hourly ingest counters per tenant (accepted, duplicates, conflicts, rejected).

Duplicates leave no row behind, so ingestion health cannot be read back from the
events; the write transaction bumps one counter row per tenant and received hour.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class IngestHour:
    hour_ms: int
    accepted: int
    duplicates: int
    conflicts: int
    rejected: int


def bump(conn: Connection, counts: dict[int, list[int]], received_ms: int) -> None:
    """Add each tenant's [accepted, duplicates, conflicts, rejected] to the received hour."""
    hour = received_ms - received_ms % HOUR
    names = ("accepted", "duplicates", "conflicts", "rejected")
    rows = [
        {"tenant_id": tid, "hour": hour, **dict(zip(names, tally, strict=True))}
        for tid, tally in counts.items()
        if any(tally)
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
