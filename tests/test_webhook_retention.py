"""The sender's housekeeping on both backends, with a fixed clock: old deliveries purged in
bounded batches (the alerts kept), leases shared fairly between endpoints, refused
addresses not retried for a day, and batches of attempts recorded in a few statements."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from tests.test_webhook_queue import alerts, outcome, tenant
from usagekit.core.clock import FixedClock
from usagekit.server.settings import Settings
from usagekit.services.delivery import PURGE_EVERY_MS, REFUSED_WAIT_MS, Deliverer, RetryPolicy
from usagekit.services.writer import ThreadWriter
from usagekit.store import Store
from usagekit.store.alerts import CROSSED
from usagekit.store.deliveries import Outcome
from usagekit.store.schema import alerts as alerts_table
from usagekit.store.schema import webhook_attempts, webhook_deliveries

T0 = 1_788_220_800_000
DAY = 86_400_000
KEY = b"k" * 32


def count(store: Store, table: object) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)  # type: ignore[arg-type]


def statuses(store: Store, acme: int, endpoint: str) -> list[str]:
    return sorted(d.status for d in store.deliveries.page(acme, endpoint, after_id=None, limit=99))


def deliverer(store: Store, writer: ThreadWriter, clock: FixedClock, **kw: int) -> Deliverer:
    return Deliverer(
        store, writer, lambda _e, _v: KEY, policy=RetryPolicy(), clock=clock,
        retention_ms=30 * DAY, **kw,
    )  # fmt: skip


def test_old_deliveries_are_purged_in_batches_and_alerts_kept(store: Store) -> None:
    acme = tenant(store)
    store.webhooks.create("wh_a", acme, "http://a.test/", None, None)
    store.webhooks.create("wh_off", acme, "http://b.test/", None, None)
    alerts(store, acme, [CROSSED] * 6)
    store.deliveries.fan_out(T0)
    claims = store.deliveries.claim(T0, 1000, 99)
    mine = [c.delivery_id for c in claims if c.endpoint_id == "wh_a"]
    off = [c.delivery_id for c in claims if c.endpoint_id == "wh_off"]
    # wh_a: 3 delivered at T0, 1 failed (gave up) at T0 + 2 days, 1 delivered at T0 + 20
    # days, 1 still pending (retrying). wh_off: tried once at T0, then disabled.
    store.deliveries.record([outcome(i, "wh_a", T0, True, None) for i in mine[:3]], DAY)
    store.deliveries.record([outcome(mine[3], "wh_a", T0, False, T0 + 1)], DAY)
    store.deliveries.record([outcome(mine[3], "wh_a", T0 + 2 * DAY, False, None)], 99 * DAY)
    store.deliveries.record([outcome(mine[4], "wh_a", T0 + 20 * DAY, True, None)], DAY)
    store.deliveries.record([outcome(mine[5], "wh_a", T0, False, T0 + 99 * DAY)], 99 * DAY)
    store.deliveries.record([outcome(i, "wh_off", T0, False, T0 + 1) for i in off], DAY)
    store.webhooks.update(acme, "wh_off", enabled=False)
    attempts_before = count(store, webhook_attempts)

    async def run() -> None:
        clock = FixedClock(T0 + 30 * DAY - 1)
        writer = ThreadWriter(store)
        await writer.start()
        try:
            sender = deliverer(store, writer, clock, purge_batch=2)
            await sender.step()  # nothing is 30 days old yet
            assert count(store, webhook_deliveries) == 12
            clock.advance(PURGE_EVERY_MS)  # looked at again: the T0 ones and wh_off's go
            await sender.step()  # a full batch of 2: the next step purges again at once
            assert count(store, webhook_deliveries) == 10
            for _ in range(4):
                await sender.step()
            assert statuses(store, acme, "wh_a") == ["delivered", "failed", "pending"]
            assert statuses(store, acme, "wh_off") == []
            clock.advance(2 * DAY)  # the failed one's last attempt is 30 days old
            await sender.step()
            assert statuses(store, acme, "wh_a") == ["delivered", "pending"]
            clock.advance(18 * DAY)  # 20 days later the last delivered one goes too
            await sender.step()
            assert statuses(store, acme, "wh_a") == ["pending"]  # retrying: never purged
            [left] = store.deliveries.page(acme, "wh_a", after_id=None, limit=9)
            assert store.deliveries.purge([left.id], T0 + 999 * DAY) == 0  # checked again
        finally:
            await writer.stop()

    asyncio.run(run())
    assert (attempts_before, count(store, webhook_attempts)) == (13, 1)  # the pending one's
    assert count(store, alerts_table) == 6  # the alerts are the record: kept


def test_the_retention_setting() -> None:
    assert Settings().webhook_retention_days == 30
    assert Settings(webhook_retention_days=0.5).webhook_retention_days == 0.5


def test_leases_take_turns_between_endpoints_and_respect_their_caps(store: Store) -> None:
    acme = tenant(store)
    for name in ("wh_slow", "wh_fast"):
        store.webhooks.create(name, acme, f"http://{name}.test/", None, None)
    alerts(store, acme, [CROSSED] * 10)
    store.deliveries.fan_out(T0)
    first = store.deliveries.claim(T0, 1000, 6, busy={}, per_endpoint=2)
    assert sorted(c.endpoint_id for c in first) == ["wh_fast"] * 2 + ["wh_slow"] * 2
    # wh_slow at its cap is passed over; wh_fast (1 busy) gets one more.
    more = store.deliveries.claim(T0, 1000, 6, busy={"wh_slow": 2, "wh_fast": 1}, per_endpoint=2)
    assert [c.endpoint_id for c in more] == ["wh_fast"]
    rest = store.deliveries.claim(T0, 1000, 99)
    assert len(rest) == 20 - 5 and not {c.delivery_id for c in rest} & {
        c.delivery_id for c in first + more
    }


def test_a_batch_of_attempts_settles_each_delivery_and_its_endpoint(store: Store) -> None:
    acme = tenant(store)
    store.webhooks.create("wh_a", acme, "http://a.test/", None, None)
    store.webhooks.create("wh_b", acme, "http://b.test/", None, None)
    alerts(store, acme, [CROSSED] * 3)
    store.deliveries.fan_out(T0)
    a = [c.delivery_id for c in store.deliveries.claim(T0, 1000, 99) if c.endpoint_id == "wh_a"]
    b = [c.delivery_id for c in store.deliveries.claim(T0 + 2000, 1000, 99)
         if c.endpoint_id == "wh_b"]  # fmt: skip
    batch = [
        outcome(a[0], "wh_a", T0 + 1, False, T0 + 5000),
        outcome(a[0], "wh_a", T0 + 2, True, None),  # the same delivery twice: both kept
        outcome(a[1], "wh_a", T0 + 3, True, None),
        outcome(a[2], "wh_a", T0 + 4, False, None),  # after a success: wh_a failing again
        outcome(b[0], "wh_b", T0 + 1, False, T0 + 5000),
        outcome(b[1], "wh_b", T0 + 2, True, None),  # wh_b's last attempt succeeded
        outcome(999_999, "wh_b", T0, True, None),  # deleted meanwhile: ignored
    ]
    assert store.deliveries.record(batch, DAY) == []
    by_id = {d.id: d for e in ("wh_a", "wh_b")
             for d in store.deliveries.page(acme, e, after_id=None, limit=9)}  # fmt: skip
    assert (by_id[a[0]].status, by_id[a[0]].attempts, len(by_id[a[0]].tries)) == (
        "delivered", 2, 2
    )  # fmt: skip
    assert by_id[a[0]].delivered_ms == T0 + 2 and by_id[a[1]].delivered_ms == T0 + 3
    assert by_id[a[2]].status == "failed" and by_id[b[0]].next_attempt_ms == T0 + 5000
    found = {e: store.webhooks.get(acme, e) for e in ("wh_a", "wh_b")}
    assert found["wh_a"] is not None and found["wh_a"].failing_since_ms == T0 + 4
    assert found["wh_b"] is not None and found["wh_b"].failing_since_ms is None


def test_a_refused_address_fails_at_once_and_waits_a_day(store: Store) -> None:
    acme = tenant(store)
    store.webhooks.create("wh_meta", acme, "http://2852039166/hook", None, None)
    alerts(store, acme, [CROSSED])
    store.deliveries.fan_out(T0)
    [claim] = store.deliveries.claim(T0, 1000, 9)

    async def send() -> Outcome:
        sender = Deliverer(
            store, ThreadWriter(store), lambda _e, _v: KEY, policy=RetryPolicy(),
            clock=FixedClock(T0), timeout=0.5,
        )  # fmt: skip
        async with httpx.AsyncClient(timeout=0.5) as client:
            sender._client = client
            return await sender.send(claim)

    refused = asyncio.run(send())
    assert refused.ok is False and refused.status_code is None
    assert refused.error is not None and "24 h" in refused.error
    assert "refused: 2852039166 resolves to 169.254.169.254" in refused.error
    assert refused.next_attempt_ms == T0 + REFUSED_WAIT_MS
    # Recorded, it is pending with nothing due for a day.
    store.deliveries.record([refused], DAY)
    [delivery] = store.deliveries.page(acme, "wh_meta", after_id=None, limit=9)
    assert (delivery.status, delivery.next_attempt_ms) == ("pending", T0 + REFUSED_WAIT_MS)
    assert store.deliveries.claim(T0 + REFUSED_WAIT_MS - 1, 1000, 9) == []
