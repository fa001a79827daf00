"""Meter definitions and the interned dimension groups of each meter."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Row, delete, exists, insert, or_, select

from usagekit.core.clock import Clock
from usagekit.core.meters import Aggregation, Meter
from usagekit.store.schema import distinct_months, distincts, meter_groups, meters, rollups


def meter_from_row(row: Row[Any]) -> Meter:
    return Meter(
        slug=row.slug,
        event_type=row.event_type,
        aggregation=Aggregation(row.aggregation),
        value_property=row.value_property,
        dimensions=orjson.loads(row.dimensions),
        unit=row.unit,
        description=row.description,
        id=row.id,
        tenant_id=row.tenant_id,
    )


class Meters:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.clock = clock
        self.engine = engine

    def insert(self, conn: Connection, tenant_id: int, meter: Meter) -> Meter:
        """Insert a definition inside the caller's transaction; returns it with its id."""
        mid = conn.execute(
            insert(meters)
            .values(
                tenant_id=tenant_id,
                slug=meter.slug,
                event_type=meter.event_type,
                aggregation=meter.aggregation.value,
                value_property=meter.value_property,
                dimensions=orjson.dumps(meter.dimensions, option=orjson.OPT_SORT_KEYS).decode(),
                unit=meter.unit,
                description=meter.description,
                created_ms=self.clock.now_ms(),
            )
            .returning(meters.c.id)
        ).scalar_one()
        row = conn.execute(select(meters).where(meters.c.id == mid)).one()
        return meter_from_row(row)

    def for_tenant(self, tenant_id: int) -> list[Meter]:
        with self.engine.connect() as conn:
            return self.list_in(conn, tenant_id)

    def for_types(self, tenant_id: int, types: set[str]) -> list[Meter]:
        """The tenant's meters over any of these event types."""
        with self.engine.connect() as conn:
            return self.list_in(conn, tenant_id, types)

    def in_use(self, meter_ids: list[int]) -> set[int]:
        """Those of these meters that hold a value: a rollup cell or a distinct value.

        One index probe per meter (both tables' keys start with meter_id).
        """
        if not meter_ids:
            return set()
        m, r, d = meters.c, rollups.c, distincts.c
        cells = exists().where(r.meter_id == m.id, r.count > 0)
        seen = exists().where(d.meter_id == m.id)
        query = select(m.id).where(m.id.in_(sorted(meter_ids)), or_(cells, seen))
        with self.engine.connect() as conn:
            return {row[0] for row in conn.execute(query)}

    def list_in(
        self, conn: Connection, tenant_id: int, types: set[str] | None = None
    ) -> list[Meter]:
        query = select(meters).where(meters.c.tenant_id == tenant_id)
        if types is not None:
            query = query.where(meters.c.event_type.in_(sorted(types)))
        return [meter_from_row(r) for r in conn.execute(query.order_by(meters.c.slug))]

    def get(self, tenant_id: int, slug: str) -> Meter | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(meters).where(meters.c.tenant_id == tenant_id, meters.c.slug == slug)
            ).first()
        return meter_from_row(row) if row else None

    def delete(self, conn: Connection, meter: Meter) -> None:
        """Remove a meter and everything derived from it (raw events stay)."""
        for table in (rollups, distincts, distinct_months, meter_groups):
            conn.execute(delete(table).where(table.c.meter_id == meter.id))
        conn.execute(delete(meters).where(meters.c.id == meter.id))

    def groups(self, meter_id: int) -> dict[int, list[str | None]]:
        """group_id -> dimension values (in the meter's dimension order)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(meter_groups.c.id, meter_groups.c.key).where(
                    meter_groups.c.meter_id == meter_id
                )
            ).all()
        return {r.id: orjson.loads(r.key) for r in rows}
