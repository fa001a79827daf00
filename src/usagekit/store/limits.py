"""Limit definitions: one row each, the limit value and thresholds kept as decimal text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Row, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from usagekit.core.clock import Clock
from usagekit.core.limit_periods import PeriodKind
from usagekit.core.limit_tally import usage_from_text
from usagekit.core.limits import Limit, Scope
from usagekit.core.numbers import NANO, Number, to_nanos
from usagekit.store.errors import AlreadyExists
from usagekit.store.limit_sheets import usage_in
from usagekit.store.schema import events, limit_members, limit_state, limits, meters


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
        backlog=None if row.backlog_lo is None else (row.backlog_lo, row.backlog_hi),
        epoch=row.epoch,
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
# What a redefinition changes the meaning of kept usage by (the value and thresholds don't).
_REDEFINING = ("period", "tz", "scope", "filters")


def on_meters(conn: Connection, tenant_id: int, meter_ids: list[int]) -> list[Limit]:
    """A tenant's limits on any of these meters, read in the caller's transaction."""
    query = _SELECT.where(limits.c.tenant_id == tenant_id, limits.c.meter_id.in_(meter_ids))
    return [limit_from_row(r) for r in conn.execute(query.order_by(limits.c.id))]


def forget(conn: Connection, limit_ids: Iterable[int]) -> None:
    """Drop the usage kept for these limits (redefined, deleted, or their meter rebuilt):
    they count again from here, and the next commit or status read recounts the past.
    Their entries in subjects' sheets retire with the epoch; the archive goes now."""
    ids = sorted(set(limit_ids))
    if not ids:
        return
    for table in (limit_state, limit_members):
        conn.execute(delete(table).where(table.c.limit_id.in_(ids)))
    found = conn.execute(
        select(limits.c.id, limits.c.tenant_id, meters.c.event_type)
        .join(meters, meters.c.id == limits.c.meter_id)
        .where(limits.c.id.in_(ids))
    )
    for limit_id, tenant_id, event_type in found.all():
        e = events.c
        of_type = (e.tenant_id == tenant_id, e.type == event_type)
        lo = conn.execute(select(func.min(e.time_ms)).where(*of_type)).scalar()
        hi = conn.execute(select(func.max(e.time_ms)).where(*of_type)).scalar()
        conn.execute(
            update(limits)
            .where(limits.c.id == limit_id)
            .values(backlog_lo=lo, backlog_hi=hi, epoch=limits.c.epoch + 1)
        )


class Limits:
    def __init__(self, engine: Engine, write_engine: Engine, clock: Clock) -> None:
        self.engine = engine
        mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self._kept_sql = (
            f"SELECT usage FROM limit_state WHERE limit_id = {mark} AND subject = {mark} "
            f"AND period_start = {mark}"
        )
        self._sheet_sql = (
            f"SELECT sheet FROM limit_sheets WHERE meter_id = {mark} AND subject = {mark}"
        )
        by_slug = _SELECT.where(
            limits.c.tenant_id == bindparam("t"), limits.c.slug == bindparam("s")
        )
        self._get_sql = str(by_slug.compile(dialect=engine.dialect))
        self._positional = engine.dialect.paramstyle == "qmark"
        self.write_engine = write_engine
        self.clock = clock

    def insert(self, tenant_id: int, meter_id: int, limit: Limit) -> Limit:
        """A new limit; AlreadyExists naming `slug` if the tenant has one of that slug."""
        now = self.clock.now_ms()
        try:
            with self.write_engine.begin() as conn:
                made = conn.execute(
                    insert(limits).values(
                        tenant_id=tenant_id,
                        slug=limit.slug,
                        meter_id=meter_id,
                        created_ms=now,
                        updated_ms=now,
                        **_columns(limit),
                    )
                )
                assert made.inserted_primary_key is not None
                forget(conn, [made.inserted_primary_key[0]])
        except IntegrityError:
            raise AlreadyExists(f"limit {limit.slug!r} already exists", "slug") from None
        found = self.get(tenant_id, limit.slug)
        assert found is not None
        return found

    def replace(self, limit: Limit) -> Limit:
        """Store the changed fields of an existing limit (by id); kept usage is dropped when
        what it counts changes."""
        old = self.get(limit.tenant_id, limit.slug)
        with self.write_engine.begin() as conn:
            if old is None or any(getattr(old, f) != getattr(limit, f) for f in _REDEFINING):
                forget(conn, [limit.id])
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
            forget(conn, [limit.id])

    def get(self, tenant_id: int, slug: str) -> Limit | None:
        """A limit by slug: a plain statement (compiled once), as entitlement checks read
        one per call."""
        with self.engine.connect() as conn:
            params = (tenant_id, slug) if self._positional else {"t": tenant_id, "s": slug}
            row = conn.exec_driver_sql(self._get_sql, params).first()
        return limit_from_row(row) if row else None

    def for_tenant(self, tenant_id: int) -> list[Limit]:
        query = _SELECT.where(limits.c.tenant_id == tenant_id).order_by(limits.c.slug)
        with self.engine.connect() as conn:
            return [limit_from_row(r) for r in conn.execute(query)]

    def kept(self, limit: Limit, subject: str, period_start: int) -> tuple[bool, Number | None]:
        """(found, usage) of what the writer keeps for one subject ('' tenant-wide) and period:
        in the subject's sheet, or for an older period, in the archive.

        Plain statements: an entitlement check is on callers' hot paths, and building
        the SQLAlchemy expression cost more than running it."""
        with self.engine.connect() as conn:
            row = conn.exec_driver_sql(self._sheet_sql, (limit.meter_id, subject)).first()
            if row is not None:
                found, usage = usage_in(row[0], limit, period_start)
                if found:
                    return found, usage
            key = (limit.id, subject, period_start)
            row = conn.exec_driver_sql(self._kept_sql, key).first()
        return (False, None) if row is None else (True, usage_from_text(row[0]))

    def of_meter(self, meter_id: int) -> list[Limit]:
        """The limits on one meter (what a meter's deletion would leave pointing nowhere)."""
        query = _SELECT.where(limits.c.meter_id == meter_id).order_by(limits.c.slug)
        with self.engine.connect() as conn:
            return [limit_from_row(r) for r in conn.execute(query)]
