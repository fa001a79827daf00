"""The webhook queue: one delivery per alert and endpoint, its attempts, and leases.

The tables are the queue, so it survives restarts. Writes here run in the writer
(under the write lock), so fan-out and claims from several server processes never
interleave: a claim leases due deliveries until `lease_until_ms`, and a sender that
dies just lets its lease run out (delivery is at least once).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from usagekit.store.alerts import AlertRow, alert_of
from usagekit.store.schema import alerts, webhook_attempts, webhook_deliveries, webhook_endpoints

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
FAN_OUT_BATCH = 1000


@dataclass(frozen=True, slots=True)
class Attempt:
    id: int
    at_ms: int
    status_code: int | None
    latency_ms: int
    error: str | None
    response: str | None


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    endpoint_id: str
    alert_id: int
    status: str
    attempts: int
    next_attempt_ms: int | None
    created_ms: int
    delivered_ms: int | None
    tries: list[Attempt] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Claim:
    """A due delivery leased to one sender, with what it needs to send it."""

    delivery_id: int
    endpoint_id: str
    url: str
    secret_version: int
    attempts: int
    alert: AlertRow


@dataclass(frozen=True, slots=True)
class Outcome:
    """One attempt's result; `next_attempt_ms` None after a failure: give up (failed)."""

    delivery_id: int
    endpoint_id: str
    at_ms: int
    ok: bool
    status_code: int | None
    latency_ms: int
    error: str | None
    response: str | None
    next_attempt_ms: int | None


class Deliveries:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.write_engine = engine.execution_options(immediate=True)

    # -- reads: whether the sender has work, without taking the write lock --

    def fan_out_waiting(self) -> bool:
        """Whether an enabled endpoint has alerts not yet fanned out to it."""
        w, a = webhook_endpoints.c, alerts.c
        newer = select(a.id).where(a.tenant_id == w.tenant_id, a.id > w.last_alert_id).exists()
        with self.engine.connect() as conn:
            found = conn.execute(select(w.id).where(w.enabled == 1, newer).limit(1)).first()
        return found is not None

    def next_due(self, now_ms: int) -> int | None:
        """When the earliest pending, unleased delivery of an enabled endpoint falls due."""
        d, w = webhook_deliveries.c, webhook_endpoints.c
        query = (
            select(func.min(d.next_attempt_ms))
            .join_from(webhook_deliveries, webhook_endpoints, w.id == d.endpoint_id)
            .where(
                d.status == PENDING,
                w.enabled == 1,
                or_(d.lease_until_ms.is_(None), d.lease_until_ms <= now_ms),
            )
        )
        with self.engine.connect() as conn:
            found = conn.execute(query).scalar()
        return None if found is None else int(found)

    # -- writes (the writer's) --

    def fan_out(self, now_ms: int) -> int:
        """A delivery of each new alert to each enabled endpoint of its tenant whose
        types match; returns how many were made. Rows go in alert order across the
        endpoints, so leasing by id takes turns between them."""
        w, a = webhook_endpoints.c, alerts.c
        made: list[dict[str, object]] = []
        with self.write_engine.begin() as conn:
            endpoints = conn.execute(select(webhook_endpoints).where(w.enabled == 1)).all()
            for e in endpoints:
                rows = conn.execute(
                    select(a.id, a.type)
                    .where(a.tenant_id == e.tenant_id, a.id > e.last_alert_id)
                    .order_by(a.id)
                    .limit(FAN_OUT_BATCH)
                ).all()
                if not rows:
                    continue
                types = None if e.event_types is None else set(_loads(e.event_types))
                made += [
                    {"tenant_id": e.tenant_id, "endpoint_id": e.id, "alert_id": r.id,
                     "status": PENDING, "attempts": 0, "next_attempt_ms": now_ms,
                     "created_ms": now_ms}
                    for r in rows
                    if types is None or r.type in types
                ]  # fmt: skip
                conn.execute(
                    update(webhook_endpoints).where(w.id == e.id).values(last_alert_id=rows[-1].id)
                )
            if made:
                made.sort(key=lambda m: (m["alert_id"], m["endpoint_id"]))
                conn.execute(insert(webhook_deliveries), made)
        return len(made)

    def claim(
        self,
        now_ms: int,
        lease_ms: int,
        limit: int,
        *,
        busy: dict[str, int] | None = None,
        per_endpoint: int | None = None,
    ) -> list[Claim]:
        """Lease up to `limit` due deliveries of enabled endpoints, oldest due first, and
        no more per endpoint than `per_endpoint` less its `busy` sends in flight."""
        d, w, a = webhook_deliveries.c, webhook_endpoints.c, alerts.c
        busy = dict(busy or {})
        full = [e for e, n in busy.items() if per_endpoint is not None and n >= per_endpoint]
        due = and_(
            d.status == PENDING,
            w.enabled == 1,
            d.next_attempt_ms <= now_ms,
            or_(d.lease_until_ms.is_(None), d.lease_until_ms <= now_ms),
        )
        if full:
            due = and_(due, d.endpoint_id.not_in(full))
        window = limit if per_endpoint is None else 4 * limit
        with self.write_engine.begin() as conn:
            found = conn.execute(
                select(d.id, d.endpoint_id)
                .join_from(webhook_deliveries, webhook_endpoints, w.id == d.endpoint_id)
                .where(due)
                .order_by(d.next_attempt_ms, d.id)
                .limit(window)
            ).all()
            ids: list[int] = []
            for delivery_id, endpoint_id in found:
                if per_endpoint is not None and busy.get(endpoint_id, 0) >= per_endpoint:
                    continue
                busy[endpoint_id] = busy.get(endpoint_id, 0) + 1
                ids.append(delivery_id)
                if len(ids) == limit:
                    break
            if not ids:
                return []
            rows = conn.execute(
                select(d.id, d.endpoint_id, d.attempts, w.url, w.secret_version, alerts)
                .join_from(webhook_deliveries, webhook_endpoints, w.id == d.endpoint_id)
                .join(alerts, a.id == d.alert_id)
                .where(d.id.in_(ids))
                .order_by(d.next_attempt_ms, d.id)
            ).all()
            conn.execute(
                update(webhook_deliveries)
                .where(d.id.in_(ids))
                .values(lease_until_ms=now_ms + lease_ms)
            )
        return [Claim(r[0], r[1], r.url, r.secret_version, r.attempts, alert_of(r)) for r in rows]

    def record(self, outcomes: list[Outcome], disable_after_ms: int) -> list[str]:
        """Keep each attempt and move its delivery on (a delivery already settled by
        another sender only gains the attempt), in a few statements per batch. An
        endpoint failing every attempt for `disable_after_ms` is disabled; returns the
        ids of those disabled now."""
        d, w = webhook_deliveries.c, webhook_endpoints.c
        disabled: list[str] = []
        with self.write_engine.begin() as conn:
            asked = list({o.delivery_id for o in outcomes})
            alive = set(conn.execute(select(d.id).where(d.id.in_(asked))).scalars())
            outcomes = [o for o in outcomes if o.delivery_id in alive]  # else deleted meanwhile
            if not outcomes:
                return []
            conn.execute(
                insert(webhook_attempts),
                [
                    {"delivery_id": o.delivery_id, "at_ms": o.at_ms, "status_code": o.status_code,
                     "latency_ms": o.latency_ms, "error": o.error, "response": o.response}
                    for o in outcomes
                ],
            )  # fmt: skip
            tries = Counter(o.delivery_id for o in outcomes)
            for k in set(tries.values()):
                conn.execute(
                    update(webhook_deliveries)
                    .where(d.id.in_([i for i, n in tries.items() if n == k]))
                    .values(attempts=d.attempts + k)
                )
            ok = [o for o in outcomes if o.ok]
            last_ok: dict[str, int] = {}
            if ok:
                conn.execute(
                    update(webhook_deliveries)
                    .where(d.id == bindparam("b_id"), d.status == PENDING)
                    .values(status=DELIVERED, delivered_ms=bindparam("b_at"),
                            next_attempt_ms=None, lease_until_ms=None),
                    [{"b_id": o.delivery_id, "b_at": o.at_ms} for o in ok],
                )  # fmt: skip
                for o in ok:
                    last_ok[o.endpoint_id] = max(o.at_ms, last_ok.get(o.endpoint_id, o.at_ms))
                conn.execute(
                    update(webhook_endpoints)
                    .where(w.id.in_(list(last_ok)), w.failing_since_ms.is_not(None))
                    .values(failing_since_ms=None)
                )
            for o in sorted((o for o in outcomes if not o.ok), key=lambda o: o.at_ms):
                gave_up = o.next_attempt_ms is None
                conn.execute(
                    update(webhook_deliveries)
                    .where(d.id == o.delivery_id, d.status == PENDING)
                    .values(status=FAILED if gave_up else PENDING,
                            next_attempt_ms=o.next_attempt_ms, lease_until_ms=None)
                )  # fmt: skip
                if o.at_ms <= last_ok.get(o.endpoint_id, -1):
                    continue  # a later attempt succeeded: the endpoint is not failing
                if self._failing(conn, o, disable_after_ms):
                    disabled.append(o.endpoint_id)
        return disabled

    def _failing(self, conn: Connection, o: Outcome, disable_after_ms: int) -> bool:
        """Start the endpoint's failure clock, or disable it once that is old enough;
        whether it was disabled now."""
        w = webhook_endpoints.c
        endpoint = conn.execute(
            select(w.enabled, w.failing_since_ms).where(w.id == o.endpoint_id)
        ).first()
        if endpoint is None or not endpoint.enabled:
            return False
        since = endpoint.failing_since_ms
        if since is None:
            conn.execute(
                update(webhook_endpoints)
                .where(w.id == o.endpoint_id)
                .values(failing_since_ms=o.at_ms)
            )
            return False
        if o.at_ms - since < disable_after_ms:
            return False
        hours = (o.at_ms - since) / 3_600_000
        last = o.error or f"status {o.status_code}"
        reason = f"every delivery failed for {hours:.1f} h (last: {last})"
        conn.execute(
            update(webhook_endpoints)
            .where(w.id == o.endpoint_id)
            .values(enabled=0, disabled_reason=reason)
        )
        return True

    def purgeable(self, before_ms: int, limit: int) -> list[int]:
        """Up to `limit` deliveries past retention: delivered before `before_ms`, or failed
        or waiting on a disabled endpoint with no attempt since then. A read, so the
        scan holds no write lock; `purge` checks each again."""
        d = webhook_deliveries.c
        with self.engine.connect() as conn:
            ids = list(
                conn.execute(
                    select(d.id).where(self._old(before_ms, delivered=True)).limit(limit)
                ).scalars()
            )
            if len(ids) < limit:
                stopped = self._old(before_ms, delivered=False)
                ids += conn.execute(select(d.id).where(stopped).limit(limit - len(ids))).scalars()
        return ids

    def purge(self, ids: list[int], before_ms: int) -> int:
        """Delete those of `ids` still past retention, with their attempts; returns how
        many. The alerts stay: they are the record."""
        d, t = webhook_deliveries.c, webhook_attempts.c
        if not ids:
            return 0
        with self.write_engine.begin() as conn:
            gone = list(
                conn.execute(
                    select(d.id).where(
                        d.id.in_(ids),
                        or_(*(self._old(before_ms, delivered=k) for k in (True, False))),
                    )
                ).scalars()
            )
            if gone:
                conn.execute(delete(webhook_attempts).where(t.delivery_id.in_(gone)))
                conn.execute(delete(webhook_deliveries).where(d.id.in_(gone)))
        return len(gone)

    @staticmethod
    def _old(before_ms: int, *, delivered: bool) -> ColumnElement[bool]:
        d, w, t = webhook_deliveries.c, webhook_endpoints.c, webhook_attempts.c
        if delivered:
            return and_(d.status == DELIVERED, d.delivered_ms < before_ms)
        last_try = select(func.max(t.at_ms)).where(t.delivery_id == d.id).scalar_subquery()
        stopped = or_(
            d.status == FAILED,
            and_(d.status == PENDING, d.endpoint_id.in_(select(w.id).where(w.enabled == 0))),
        )
        return and_(
            stopped, d.created_ms < before_ms, func.coalesce(last_try, d.created_ms) < before_ms
        )

    def retry(self, tenant_id: int, endpoint_id: str, delivery_id: int, now_ms: int) -> bool:
        """Make one delivery due now (whatever its state); False if there is none such."""
        d = webhook_deliveries.c
        with self.write_engine.begin() as conn:
            changed = conn.execute(
                update(webhook_deliveries)
                .where(d.tenant_id == tenant_id, d.endpoint_id == endpoint_id, d.id == delivery_id)
                .values(status=PENDING, next_attempt_ms=now_ms, lease_until_ms=None)
            ).rowcount
        return bool(changed)

    # -- listing --

    def page(
        self, tenant_id: int, endpoint_id: str, *, after_id: int | None, limit: int
    ) -> list[Delivery]:
        """An endpoint's deliveries, newest first, each with its attempts (oldest first)."""
        d, t = webhook_deliveries.c, webhook_attempts.c
        query = select(webhook_deliveries).where(
            d.tenant_id == tenant_id, d.endpoint_id == endpoint_id
        )
        if after_id is not None:
            query = query.where(d.id < after_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(d.id.desc()).limit(limit)).all()
            tries: dict[int, list[Attempt]] = {r.id: [] for r in rows}
            if rows:
                for r in conn.execute(
                    select(webhook_attempts).where(t.delivery_id.in_(list(tries))).order_by(t.id)
                ).all():
                    tries[r.delivery_id].append(
                        Attempt(r.id, r.at_ms, r.status_code, r.latency_ms, r.error, r.response)
                    )
        return [
            Delivery(
                r.id,
                r.endpoint_id,
                r.alert_id,
                r.status,
                r.attempts,
                r.next_attempt_ms,
                r.created_ms,
                r.delivered_ms,
                tries[r.id],
            )
            for r in rows
        ]


def _loads(text: str) -> list[str]:
    found: list[str] = orjson.loads(text)
    return found
