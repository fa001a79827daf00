"""Rejected and unprocessable records, kept verbatim until cleared or retried."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import ColumnElement, Engine, delete, select

from usagekit.core.records import Failure
from usagekit.store.schema import failures


def failure_of(r: Any) -> Failure:
    """A `failures` row as a Failure."""
    return Failure(
        r.id, r.tenant_id, r.received_ms, r.error, orjson.loads(r.record), r.channel, r.subject
    )


def owned(tenant_id: int, subject: str | None) -> list[ColumnElement[bool]]:
    """The rows of a tenant, of one subject only when `subject` is given."""
    f = failures.c
    where = [f.tenant_id == tenant_id]
    if subject is not None:
        where.append(f.subject == subject)
    return where


class Failures:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def page(
        self,
        tenant_id: int,
        *,
        after_id: int | None = None,
        limit: int = 100,
        channel: str | None = None,
        subject: str | None = None,
    ) -> list[Failure]:
        """Newest first; `after_id` is the last id of the previous page."""
        f = failures.c
        query = select(failures).where(*owned(tenant_id, subject))
        if after_id is not None:
            query = query.where(f.id < after_id)
        if channel is not None:
            query = query.where(f.channel == channel)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(f.id.desc()).limit(limit)).all()
        return [failure_of(r) for r in rows]

    def get(self, tenant_id: int, failure_id: int, subject: str | None = None) -> Failure | None:
        with self.engine.connect() as conn:
            r = conn.execute(
                select(failures).where(*owned(tenant_id, subject), failures.c.id == failure_id)
            ).first()
        return None if r is None else failure_of(r)

    def delete(self, tenant_id: int, failure_ids: list[int], subject: str | None = None) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(failures).where(*owned(tenant_id, subject), failures.c.id.in_(failure_ids))
            )
        return int(result.rowcount)
