"""Rejected and unprocessable records, kept verbatim until cleared or retried."""

from __future__ import annotations

import orjson
from sqlalchemy import Engine, delete, select

from usagekit.core.records import Failure
from usagekit.store.schema import failures


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
    ) -> list[Failure]:
        """Newest first; `after_id` is the last id of the previous page."""
        f = failures.c
        query = select(failures).where(f.tenant_id == tenant_id)
        if after_id is not None:
            query = query.where(f.id < after_id)
        if channel is not None:
            query = query.where(f.channel == channel)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(f.id.desc()).limit(limit)).all()
        return [
            Failure(r.id, r.tenant_id, r.received_ms, r.error, orjson.loads(r.record), r.channel)
            for r in rows
        ]

    def get(self, tenant_id: int, failure_id: int) -> Failure | None:
        f = failures.c
        with self.engine.connect() as conn:
            r = conn.execute(
                select(failures).where(f.tenant_id == tenant_id, f.id == failure_id)
            ).first()
        if r is None:
            return None
        return Failure(r.id, r.tenant_id, r.received_ms, r.error, orjson.loads(r.record), r.channel)

    def delete(self, tenant_id: int, failure_ids: list[int]) -> int:
        f = failures.c
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(failures).where(f.tenant_id == tenant_id, f.id.in_(failure_ids))
            )
        return int(result.rowcount)
