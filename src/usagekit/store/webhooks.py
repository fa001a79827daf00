"""Webhook endpoints of each tenant (the signing secret is never stored: see services.webhooks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine, delete, insert, select, update

from usagekit.core.clock import Clock
from usagekit.store.alerts import last_id
from usagekit.store.schema import webhook_attempts, webhook_deliveries, webhook_endpoints


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    tenant_id: int
    url: str
    description: str | None
    event_types: list[str] | None  # None: every type
    secret_version: int
    enabled: bool
    disabled_reason: str | None
    failing_since_ms: int | None
    last_alert_id: int
    created_ms: int
    updated_ms: int


def endpoint_of(r: Any) -> Endpoint:
    return Endpoint(
        r.id,
        r.tenant_id,
        r.url,
        r.description,
        None if r.event_types is None else orjson.loads(r.event_types),
        r.secret_version,
        bool(r.enabled),
        r.disabled_reason,
        r.failing_since_ms,
        r.last_alert_id,
        r.created_ms,
        r.updated_ms,
    )


UNSET: Any = object()  # an update's "leave as it is"


class Endpoints:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.write_engine = engine.execution_options(immediate=True)
        self.clock = clock

    def create(
        self,
        endpoint_id: str,
        tenant_id: int,
        url: str,
        description: str | None,
        event_types: list[str] | None,
    ) -> Endpoint:
        """A new enabled endpoint; it gets the alerts made from now on."""
        now = self.clock.now_ms()
        with self.write_engine.begin() as conn:
            conn.execute(
                insert(webhook_endpoints).values(
                    id=endpoint_id,
                    tenant_id=tenant_id,
                    url=url,
                    description=description,
                    event_types=_types(event_types),
                    secret_version=1,
                    enabled=1,
                    last_alert_id=last_id(conn, tenant_id),
                    created_ms=now,
                    updated_ms=now,
                )
            )
        found = self.get(tenant_id, endpoint_id)
        assert found is not None
        return found

    def of_tenant(self, tenant_id: int) -> list[Endpoint]:
        w = webhook_endpoints.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(webhook_endpoints)
                .where(w.tenant_id == tenant_id)
                .order_by(w.created_ms, w.id)
            ).all()
        return [endpoint_of(r) for r in rows]

    def get(self, tenant_id: int, endpoint_id: str) -> Endpoint | None:
        w = webhook_endpoints.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(webhook_endpoints).where(w.tenant_id == tenant_id, w.id == endpoint_id)
            ).first()
        return None if row is None else endpoint_of(row)

    def update(
        self,
        tenant_id: int,
        endpoint_id: str,
        *,
        url: str = UNSET,
        description: str | None = UNSET,
        event_types: list[str] | None = UNSET,
        enabled: bool = UNSET,
        rotate: bool = False,
    ) -> Endpoint | None:
        """Change what is given; None if the tenant has no such endpoint.

        Enabling a disabled endpoint clears its reason and failure clock, and it gets the
        alerts made from then on (none of those made while it was off).
        """
        w = webhook_endpoints.c
        with self.write_engine.begin() as conn:
            row = conn.execute(
                select(webhook_endpoints).where(w.tenant_id == tenant_id, w.id == endpoint_id)
            ).first()
            if row is None:
                return None
            values: dict[str, Any] = {"updated_ms": self.clock.now_ms()}
            if url is not UNSET:
                values["url"] = url
            if description is not UNSET:
                values["description"] = description
            if event_types is not UNSET:
                values["event_types"] = _types(event_types)
            if rotate:
                values["secret_version"] = row.secret_version + 1
            if enabled is not UNSET and bool(enabled) != bool(row.enabled):
                values["enabled"] = int(enabled)
                values["disabled_reason"] = None
                values["failing_since_ms"] = None
                if enabled:
                    values["last_alert_id"] = last_id(conn, tenant_id)
            conn.execute(update(webhook_endpoints).where(w.id == endpoint_id).values(**values))
        return self.get(tenant_id, endpoint_id)

    def delete(self, tenant_id: int, endpoint_id: str) -> bool:
        """Drop an endpoint with its deliveries and their attempts."""
        w, d = webhook_endpoints.c, webhook_deliveries.c
        with self.write_engine.begin() as conn:
            gone = conn.execute(
                delete(webhook_endpoints).where(w.tenant_id == tenant_id, w.id == endpoint_id)
            ).rowcount
            if gone:
                ids = select(d.id).where(d.endpoint_id == endpoint_id).scalar_subquery()
                conn.execute(
                    delete(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(ids))
                )
                conn.execute(delete(webhook_deliveries).where(d.endpoint_id == endpoint_id))
        return bool(gone)


def _types(event_types: list[str] | None) -> str | None:
    return None if event_types is None else orjson.dumps(event_types).decode()
