"""All SQL lives here: one Store facade over SQLite (default) or PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from usagekit.core.clock import END_OF_TIME, SYSTEM_CLOCK, Clock
from usagekit.core.meters import Meter
from usagekit.store import migrate
from usagekit.store.accounts import Accounts
from usagekit.store.alerts import Alerts
from usagekit.store.batches import BatchOutcome, TenantBatch
from usagekit.store.deliveries import Deliveries
from usagekit.store.engine import make_engine
from usagekit.store.errors import AlreadyExists, StoreError
from usagekit.store.events import Events
from usagekit.store.failures import Failures
from usagekit.store.ingest_stats import IngestStats
from usagekit.store.limits import Limits, forget, on_meters
from usagekit.store.meters import Meters
from usagekit.store.processing import Processing
from usagekit.store.registry import Registry
from usagekit.store.rollups import Rollups
from usagekit.store.webhooks import Endpoints


class Store:
    """The database, as the services see it: repositories sharing one engine."""

    def __init__(self, engine: Engine, clock: Clock = SYSTEM_CLOCK) -> None:
        self.engine = engine
        self.clock = clock  # stamps every write; services read "now" from it too
        self.accounts = Accounts(engine, clock)
        self.meters = Meters(engine, clock)
        self.rollups = Rollups(engine)
        self.events = Events(engine, self.meters, self.rollups, clock)
        self.failures = Failures(engine)
        self.ingest_stats = IngestStats(engine)
        self.registry = Registry(engine, clock)
        self.processing = Processing(engine, self.events)
        self.limits = Limits(engine, self.events.write_engine, clock)
        self.alerts = Alerts(engine)
        self.webhooks = Endpoints(engine, clock)
        self.deliveries = Deliveries(engine)

    @classmethod
    def open(
        cls,
        db: str,
        *,
        create: bool = True,
        synchronous: str = "FULL",
        clock: Clock = SYSTEM_CLOCK,
    ) -> Store:
        store = cls(make_engine(db, synchronous=synchronous), clock)
        if create:
            store.create_schema()
        return store

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def ping(self) -> None:
        """A round trip to the database; raises whatever the database raises."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def create_schema(self) -> None:
        """Create or upgrade the schema to the newest migration."""
        migrate.upgrade(self.engine)

    def create_meter(self, tenant_id: int, meter: Meter) -> Meter:
        """Insert a meter and backfill it from the events already stored.

        AlreadyExists naming `slug` if the tenant has a meter of that slug.
        """
        try:
            with self.events.write_engine.begin() as conn:
                created = self.meters.insert(conn, tenant_id, meter)
                self.events.recompute(conn, created, 0, END_OF_TIME)
        except IntegrityError:
            raise AlreadyExists(f"meter {meter.slug!r} already exists", "slug") from None
        return created

    def delete_meter(self, meter: Meter) -> None:
        with self.events.write_engine.begin() as conn:
            self.meters.delete(conn, meter)
        self.rollups.forget_groups()

    def rebuild(self, tenant_id: int | None = None) -> int:
        """Recompute every meter's rollups from raw events; returns the number of meters."""
        tenant_ids = (
            [tenant_id] if tenant_id is not None else [t.id for t in self.accounts.list_tenants()]
        )
        count = 0
        for tid in tenant_ids:
            for meter in self.meters.for_tenant(tid):
                with self.events.write_engine.begin() as conn:
                    self.events.recompute(conn, meter, 0, END_OF_TIME)
                    forget(conn, [x.id for x in on_meters(conn, tid, [meter.id])])
                count += 1
        return count

    def recompute(self, meter: Meter, ranges: Sequence[tuple[int, int]]) -> None:
        """Rebuild one meter's rollups over day-aligned [lo, hi) ranges, in one transaction."""
        with self.events.write_engine.begin() as conn:
            for lo, hi in ranges:
                self.events.recompute(conn, meter, lo, hi)
            forget(conn, [x.id for x in on_meters(conn, meter.tenant_id, [meter.id])])

    def close(self) -> None:
        self.engine.dispose()


__all__ = ["AlreadyExists", "BatchOutcome", "Store", "StoreError", "TenantBatch"]
