"""Limit definitions: one row each, the limit value and thresholds kept as decimal text."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Engine, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from usagekit.core.clock import Clock
from usagekit.core.limit_periods import PeriodKind
from usagekit.core.limits import Limit, Scope
from usagekit.core.numbers import NANO, to_nanos
from usagekit.store.errors import AlreadyExists
from usagekit.store.schema import limits, meters


def _dec(nanos: int) -> str:
    """Nano-units as plain decimal text: '1000', '0.25' (never an exponent)."""
    sign = "-" if nanos < 0 else ""
    units, rest = divmod(abs(nanos), NANO)
    return f"{sign}{units}" + (f".{rest:09d}".rstrip("0") if rest else "")


def limit_from_row(row: Row[Any]) -> Limit:
    return Limit(
        slug=row.slug,
        meter=row.meter_slug,
        period=PeriodKind(row.period),
        tz=row.tz,
        limit_nanos=to_nanos(row.limit_value),
        thresholds=tuple(to_nanos(t) for t in orjson.loads(row.thresholds)),
        scope=Scope(row.scope),
        filters={k: tuple(v) for k, v in orjson.loads(row.filters).items()},
        description=row.description,
        id=row.id,
        tenant_id=row.tenant_id,
        meter_id=row.meter_id,
        created_ms=row.created_ms,
        updated_ms=row.updated_ms,
    )


def _columns(limit: Limit) -> dict[str, Any]:
    return {
        "period": limit.period.value,
        "tz": limit.tz,
        "limit_value": _dec(limit.limit_nanos),
        "thresholds": orjson.dumps([_dec(t) for t in limit.thresholds]).decode(),
        "scope": limit.scope.value,
        "filters": orjson.dumps(
            {k: list(v) for k, v in limit.filters.items()}, option=orjson.OPT_SORT_KEYS
        ).decode(),
        "description": limit.description,
    }


_SELECT = select(limits, meters.c.slug.label("meter_slug")).join(
    meters, meters.c.id == limits.c.meter_id
)


class Limits:
    def __init__(self, engine: Engine, write_engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.write_engine = write_engine
        self.clock = clock

    def insert(self, tenant_id: int, meter_id: int, limit: Limit) -> Limit:
        """A new limit; AlreadyExists naming `slug` if the tenant has one of that slug."""
        now = self.clock.now_ms()
        try:
            with self.write_engine.begin() as conn:
                conn.execute(
                    insert(limits).values(
                        tenant_id=tenant_id,
                        slug=limit.slug,
                        meter_id=meter_id,
                        created_ms=now,
                        updated_ms=now,
                        **_columns(limit),
                    )
                )
        except IntegrityError:
            raise AlreadyExists(f"limit {limit.slug!r} already exists", "slug") from None
        found = self.get(tenant_id, limit.slug)
        assert found is not None
        return found

    def replace(self, limit: Limit) -> Limit:
        """Store the changed fields of an existing limit (by id)."""
        with self.write_engine.begin() as conn:
            conn.execute(
                update(limits)
                .where(limits.c.id == limit.id)
                .values(updated_ms=self.clock.now_ms(), **_columns(limit))
            )
        found = self.get(limit.tenant_id, limit.slug)
        assert found is not None
        return found

    def delete(self, limit: Limit) -> None:
        with self.write_engine.begin() as conn:
            conn.execute(delete(limits).where(limits.c.id == limit.id))

    def get(self, tenant_id: int, slug: str) -> Limit | None:
        query = _SELECT.where(limits.c.tenant_id == tenant_id, limits.c.slug == slug)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return limit_from_row(row) if row else None

    def for_tenant(self, tenant_id: int) -> list[Limit]:
        query = _SELECT.where(limits.c.tenant_id == tenant_id).order_by(limits.c.slug)
        with self.engine.connect() as conn:
            return [limit_from_row(r) for r in conn.execute(query)]

    def of_meter(self, meter_id: int) -> list[Limit]:
        """The limits on one meter (what a meter's deletion would leave pointing nowhere)."""
        query = _SELECT.where(limits.c.meter_id == meter_id).order_by(limits.c.slug)
        with self.engine.connect() as conn:
            return [limit_from_row(r) for r in conn.execute(query)]
