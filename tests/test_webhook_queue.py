"""The alerts outbox and the webhook queue in the store, on both backends: fan-out to the
endpoints that want each alert, leases, attempts, give-up and auto-disable, alert pages.
Times are passed in, so a day of failures takes no time."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from usagekit.core.numbers import to_nanos
from usagekit.services.delivery import DISABLE_AFTER_MS, RetryPolicy
from usagekit.services.errors import InvalidInput
from usagekit.services.webhooks import blocked, check_url
from usagekit.store import Store
from usagekit.store.alerts import CLEARED, CROSSED, AlertRow, record
from usagekit.store.deliveries import Outcome

T0 = 1_788_220_800_000
HOUR = 3_600_000


def alerts(store: Store, tenant_id: int, kinds: list[str], subject: str = "s") -> None:
    rows = [
        AlertRow(tenant_id, kind, 1, "calls", subject, 80, 8 + i, 10, T0, T0 + 24 * HOUR, T0 + i)
        for i, kind in enumerate(kinds)
    ]
    with store.events.write_engine.begin() as conn:
        record(conn, rows)


def tenant(store: Store, name: str = "acme") -> int:
    return store.accounts.create_tenant(name).id


def outcome(claim_id: int, endpoint: str, at: int, ok: bool, next_at: int | None) -> Outcome:
    code = 200 if ok else 503
    return Outcome(claim_id, endpoint, at, ok, code, 5, None if ok else "status 503", "", next_at)


def test_fan_out_goes_to_endpoints_made_before_each_alert_that_want_it(store: Store) -> None:
    acme, other = tenant(store), tenant(store, "other")
    alerts(store, acme, [CROSSED])  # before any endpoint: sent nowhere
    every = store.webhooks.create("wh_every", acme, "http://a.test/", None, None)
    cleared = store.webhooks.create("wh_cleared", acme, "http://b.test/", None, [CLEARED])
    store.webhooks.create("wh_theirs", other, "http://c.test/", None, None)
    alerts(store, acme, [CROSSED, CLEARED, CROSSED])
    assert store.deliveries.fan_out_waiting()
    assert store.deliveries.fan_out(T0) == 3 + 1
    assert not store.deliveries.fan_out_waiting()
    assert store.deliveries.fan_out(T0) == 0  # nothing twice
    got = {e: len(store.deliveries.page(acme, e, after_id=None, limit=100)) for e in
           (every.id, cleared.id)}  # fmt: skip
    assert got == {"wh_every": 3, "wh_cleared": 1}
    assert store.deliveries.page(other, "wh_theirs", after_id=None, limit=100) == []
    # Off, it gets nothing; on again, it gets what comes next, not what it missed.
    store.webhooks.update(acme, every.id, enabled=False)
    alerts(store, acme, [CROSSED])
    store.deliveries.fan_out(T0)
    store.webhooks.update(acme, every.id, enabled=True)
    store.deliveries.fan_out(T0)
    assert len(store.deliveries.page(acme, every.id, after_id=None, limit=100)) == 3
    alerts(store, acme, [CROSSED])
    store.deliveries.fan_out(T0)
    assert len(store.deliveries.page(acme, every.id, after_id=None, limit=100)) == 4


def test_a_lease_keeps_a_delivery_from_a_second_sender_until_it_runs_out(store: Store) -> None:
    acme = tenant(store)
    store.webhooks.create("wh_a", acme, "http://a.test/", None, None)
    alerts(store, acme, [CROSSED] * 5)
    store.deliveries.fan_out(T0)
    first = store.deliveries.claim(T0, 30_000, 3)
    second = store.deliveries.claim(T0 + 1, 30_000, 10)
    assert len(first) == 3 and len(second) == 2
    assert not {c.delivery_id for c in first} & {c.delivery_id for c in second}
    assert store.deliveries.claim(T0 + 29_000, 30_000, 10) == []
    assert store.deliveries.next_due(T0 + 29_000) is None
    again = store.deliveries.claim(T0 + 30_001, 30_000, 10)  # the leases ran out
    assert sorted(c.delivery_id for c in again) == sorted(c.delivery_id for c in first + second)
    assert first[0].alert.type == CROSSED and first[0].url == "http://a.test/"


def test_attempts_retry_give_up_and_disable_an_endpoint_failing_a_day(store: Store) -> None:
    acme = tenant(store)
    store.webhooks.create("wh_a", acme, "http://a.test/", None, None)
    alerts(store, acme, [CROSSED, CROSSED])
    store.deliveries.fan_out(T0)
    [one, two] = store.deliveries.claim(T0, 1000, 10)
    store.deliveries.record([outcome(one.delivery_id, "wh_a", T0, False, T0 + 5000)], HOUR)
    store.deliveries.record([outcome(two.delivery_id, "wh_a", T0, False, None)], HOUR)
    endpoint = store.webhooks.get(acme, "wh_a")
    assert endpoint is not None and endpoint.failing_since_ms == T0 and endpoint.enabled
    by_id = {d.id: d for d in store.deliveries.page(acme, "wh_a", after_id=None, limit=10)}
    assert (by_id[one.delivery_id].status, by_id[one.delivery_id].next_attempt_ms) == (
        "pending",
        T0 + 5000,
    )
    assert by_id[two.delivery_id].status == "failed"
    assert store.deliveries.claim(T0 + 4999, 1000, 10) == []
    [again] = store.deliveries.claim(T0 + 5000, 1000, 10)
    assert again.attempts == 1
    # Still failing a day later: the endpoint is disabled, with its reason.
    late = T0 + DISABLE_AFTER_MS
    disabled = store.deliveries.record(
        [outcome(again.delivery_id, "wh_a", late, False, late + 1)], DISABLE_AFTER_MS
    )
    assert disabled == ["wh_a"]
    endpoint = store.webhooks.get(acme, "wh_a")
    assert endpoint is not None and not endpoint.enabled
    assert endpoint.disabled_reason is not None and "24.0 h" in endpoint.disabled_reason
    assert store.deliveries.claim(late + 10, 1000, 10) == []  # a disabled endpoint waits
    # Enabled again: no reason, no failure clock; its pending delivery goes out, and a
    # success settles it (a late failure report from another sender changes nothing).
    store.webhooks.update(acme, "wh_a", enabled=True)
    endpoint = store.webhooks.get(acme, "wh_a")
    assert endpoint is not None and endpoint.disabled_reason is None
    assert endpoint.failing_since_ms is None
    [last] = store.deliveries.claim(late + 10, 1000, 10)
    store.deliveries.record([outcome(last.delivery_id, "wh_a", late + 20, True, None)], HOUR)
    store.deliveries.record([outcome(last.delivery_id, "wh_a", late + 30, False, late)], HOUR)
    [done] = [d for d in store.deliveries.page(acme, "wh_a", after_id=None, limit=10)
              if d.id == last.delivery_id]  # fmt: skip
    assert (done.status, done.attempts, len(done.tries)) == ("delivered", 4, 4)
    assert [t.status_code for t in done.tries] == [503, 503, 200, 503]
    # A manual retry makes even a failed delivery due now.
    assert store.deliveries.retry(acme, "wh_a", two.delivery_id, late + 40)
    assert not store.deliveries.retry(acme + 1, "wh_a", two.delivery_id, late + 40)
    assert [c.delivery_id for c in store.deliveries.claim(late + 40, 1000, 10)] == [two.delivery_id]
    assert store.webhooks.delete(acme, "wh_a")
    assert store.deliveries.page(acme, "wh_a", after_id=None, limit=10) == []


def test_the_default_retry_schedule() -> None:
    """First retry within 10 s, then doubling waits up to 2 h, for about a day."""
    policy = RetryPolicy()
    waits = policy.waits()
    assert waits[0] == 5000 and waits == sorted(waits) and max(waits) == 2 * HOUR
    assert 24 * HOUR <= sum(waits) < 24 * HOUR + 2 * HOUR
    rng = random.Random(7)
    first = [policy.next_attempt(1, 0, rng.random()) for _ in range(100)]
    assert all(f is not None and 5000 <= f < 7500 for f in first)
    assert policy.next_attempt(len(waits), 0, 0.0) == waits[-1]
    assert policy.next_attempt(len(waits) + 1, 0, 0.0) is None


def test_alert_pages_are_newest_first_in_scope_and_exact(store: Store) -> None:
    acme = tenant(store)
    values = [Decimal("0.1"), 7, 2.5, Decimal("123456789.123456789")]
    rows = [
        AlertRow(acme, CROSSED if i % 2 else CLEARED, 1, "calls", f"s{i % 2}", 80, v, v, T0,
                 T0 + HOUR, T0 + i)
        for i, v in enumerate(values)
    ]  # fmt: skip
    with store.events.write_engine.begin() as conn:
        record(conn, rows)
    page = store.alerts.page(acme, limit=3)
    assert [a.created_ms for a in page] == [T0 + 3, T0 + 2, T0 + 1]
    rest = store.alerts.page(acme, after_id=page[-1].id, limit=3)
    assert [a.created_ms for a in rest] == [T0]
    assert [to_nanos(str(a.usage)) for a in page + rest] == [
        to_nanos(str(v)) for v in reversed(values)
    ]
    assert {a.subject for a in store.alerts.page(acme, subject="s1")} == {"s1"}
    assert {a.type for a in store.alerts.page(acme, type=CLEARED)} == {CLEARED}
    assert store.alerts.page(acme + 1) == []


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/", "http://[fe80::1]/", "http://[fd00:ec2::254]/",
     "http://100.100.100.200/x", "http://[::ffff:a9fe:a9fe]/", "https://a:b@x.test/",
     "file:///etc/passwd", "http://x.test/\x00", "http://x.test:99999/", "http:///"],
)  # fmt: skip
def test_urls_refused_at_creation(url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_url(url, allow_link_local=False)
    assert caught.value.param == "url"


def test_urls_accepted_and_the_setting_that_allows_metadata() -> None:
    for url in ("http://127.0.0.1:8080/h", "https://hooks.example.com/x?a=1", "http://[::1]/",
                "http://10.0.0.1/", "http://2852039166/"):  # fmt: skip
        assert check_url(url, allow_link_local=False) == url
    assert check_url("http://169.254.169.254/", allow_link_local=True)
    assert blocked("169.254.1.1") and blocked("fe80::1%eth0") and not blocked("127.0.0.1")
