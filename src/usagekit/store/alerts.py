"""The alerts outbox: threshold events written in the transaction that moved the usage.

`record` inserts inside the caller's (the writer's) transaction, so an alert is
committed exactly when the usage that caused it is. Every writer holds the write
lock (SQLite BEGIN IMMEDIATE, the PostgreSQL advisory lock) while it inserts, so
ids grow in commit order: webhook fan-out reads them in id order and misses none.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, func, insert, select

from usagekit.core.numbers import NANO, Number, to_nanos, to_number
from usagekit.store.schema import alerts

CROSSED = "limit.threshold_crossed"
CLEARED = "limit.threshold_cleared"
TYPES = (CROSSED, CLEARED)


class AlertRow(NamedTuple):
    """One alert. Numbers are exact to 9 decimal places (core.numbers); `id` is 0 until
    stored; `subject` is None for a tenant-wide limit."""

    tenant_id: int
    type: str
    limit_id: int
    limit_slug: str
    subject: str | None
    threshold: Number  # percent of the limit
    usage: Number
    limit_value: Number
    period_start: int  # Unix ms
    period_end: int
    created_ms: int
    id: int = 0


def number_text(value: Number) -> str:
    """A number as the exact decimal text kept in the table."""
    nanos = to_nanos(str(value) if isinstance(value, Decimal) else value)
    units, rest = divmod(abs(nanos), NANO)
    text = f"{units}.{rest:09d}".rstrip("0").rstrip(".")
    return f"-{text}" if nanos < 0 else text


def record(conn: Connection, rows: list[AlertRow]) -> int:
    """Insert alerts in the caller's transaction (which must hold the write lock);
    returns how many."""
    if not rows:
        return 0
    conn.execute(
        insert(alerts),
        [
            {
                "tenant_id": r.tenant_id,
                "type": r.type,
                "limit_id": r.limit_id,
                "limit_slug": r.limit_slug,
                "subject": r.subject,
                "threshold": number_text(r.threshold),
                "usage": number_text(r.usage),
                "limit_value": number_text(r.limit_value),
                "period_start": r.period_start,
                "period_end": r.period_end,
                "created_ms": r.created_ms,
            }
            for r in rows
        ],
    )
    return len(rows)


def alert_of(r: Any) -> AlertRow:
    """An `alerts` row (or a row carrying its columns) as an AlertRow."""
    return AlertRow(
        r.tenant_id,
        r.type,
        r.limit_id,
        r.limit_slug,
        r.subject,
        to_number(to_nanos(r.threshold)),
        to_number(to_nanos(r.usage)),
        to_number(to_nanos(r.limit_value)),
        r.period_start,
        r.period_end,
        r.created_ms,
        r.id,
    )


def last_id(conn: Connection, tenant_id: int) -> int:
    """The newest alert id of a tenant (0: none yet)."""
    found = conn.execute(select(func.max(alerts.c.id)).where(alerts.c.tenant_id == tenant_id))
    return int(found.scalar() or 0)


class Alerts:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def page(
        self,
        tenant_id: int,
        *,
        after_id: int | None = None,
        limit: int = 100,
        subject: str | None = None,
        type: str | None = None,
        limit_slug: str | None = None,
    ) -> list[AlertRow]:
        """Newest first; `after_id` is the last id of the previous page."""
        a = alerts.c
        query = select(alerts).where(a.tenant_id == tenant_id)
        if after_id is not None:
            query = query.where(a.id < after_id)
        if subject is not None:
            query = query.where(a.subject == subject)
        if type is not None:
            query = query.where(a.type == type)
        if limit_slug is not None:
            query = query.where(a.limit_slug == limit_slug)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(a.id.desc()).limit(limit)).all()
        return [alert_of(r) for r in rows]
