"""Webhooks end to end: a real `usagekit serve`, alerts written into its database through
store.alerts.record (as the writer's limit evaluation will), and a real HTTP receiver.

Checked: signatures verify with `standardwebhooks`, the body is the alert, retries reuse
the webhook-id and are recorded, a receiver down for a while gets every alert, a
SIGKILLed server delivers every pending alert after a restart, metadata addresses are
refused, and a rotated secret signs alone.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import ADMIN_KEY
from tests.live import USAGEKIT, Live, free_port, serve
from tests.webhook_receiver import Receiver
from usagekit import AsyncClient, Client
from usagekit.errors import UsagekitError
from usagekit.store import Store
from usagekit.store.alerts import CROSSED, AlertRow, record

FAST = ("--webhook-first-retry", "0.2", "--webhook-retry-for", "120", "--webhook-timeout", "2")
T0 = 1_788_220_800_000  # 2026-09-01T00:00:00Z


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(free_port())
    r.start()
    yield r
    r.stop()


def add_alerts(db: str, n: int, first: int = 0) -> list[AlertRow]:
    """`n` alerts of tenant default, committed as the writer would (under its lock)."""
    store = Store.open(db)
    try:
        tenant = store.accounts.tenant_by_name("default")
        assert tenant is not None
        rows = [
            AlertRow(
                tenant.id,
                CROSSED,
                1,
                "api-calls",
                f"s{i}",
                80,
                800 + i,
                1000,
                T0,
                T0 + 86_400_000,
                T0 + i,
            )
            for i in range(first, first + n)
        ]
        with store.events.write_engine.begin() as conn:
            record(conn, rows)
    finally:
        store.close()
    return rows


def expected(row: AlertRow) -> dict[str, Any]:
    """The alert as the body's data must carry it (computed here from the row)."""
    return {
        "type": row.type,
        "limit": row.limit_slug,
        "subject": row.subject,
        "threshold": row.threshold,
        "usage": row.usage,
        "limit_value": row.limit_value,
        "period_start": "2026-09-01T00:00:00Z",
        "period_end": "2026-09-02T00:00:00Z",
    }


def create(live: Live, url: str, **extra: Any) -> dict[str, Any]:
    with live.client() as c:
        made = c.post("/v1/webhooks", json={"url": url, **extra})
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


def deliveries(live: Live, webhook_id: str) -> list[dict[str, Any]]:
    with live.client() as c:
        reply = c.get(f"/v1/webhooks/{webhook_id}/deliveries", params={"limit": 1000})
    assert reply.status_code == 200, reply.text
    found: list[dict[str, Any]] = reply.json()["data"]
    return found


def settled(live: Live, webhook_id: str, n: int, timeout: float = 20) -> list[dict[str, Any]]:
    """The endpoint's deliveries once there are `n`, none pending (an attempt is recorded
    a moment after the receiver has answered it)."""
    deadline = time.monotonic() + timeout
    while True:
        found = deliveries(live, webhook_id)
        if len(found) == n and all(d["status"] != "pending" for d in found):
            return found
        assert time.monotonic() < deadline, found
        time.sleep(0.05)


def test_signed_alerts_retried_with_the_same_id(
    module_db: str, tmp_path: Path, receiver: Receiver
) -> None:
    with serve(module_db, tmp_path, *FAST) as live:
        add_alerts(module_db, 1)  # made before the endpoint: never sent to it
        hook = create(live, receiver.url, description="ops")
        secret = hook["secret"]
        assert secret.startswith("whsec_") and hook["enabled"] is True
        with live.client() as c:
            assert "secret" not in c.get(f"/v1/webhooks/{hook['id']}").json()
        receiver.statuses = [500]
        rows = add_alerts(module_db, 1, first=1)
        got = receiver.wait(lambda g: len(g) >= 2)
        assert [r.id for r in got] == [got[0].id] * 2  # the retry reuses the webhook-id
        for r in got:
            assert r.verifies(secret)
            body = r.json()
            assert body["type"] == CROSSED and set(body) == {"type", "timestamp", "data"}
            assert {k: body["data"][k] for k in expected(rows[0])} == expected(rows[0])
            assert got[0].id == f"msg_{body['data']['id']}"
        [delivery] = settled(live, hook["id"], 1)
        assert delivery["status"] == "delivered" and delivery["attempts"] == 2
        assert [t["status_code"] for t in delivery["tries"]] == [500, 200]
        assert delivery["tries"][0]["error"] == "status 500"
        assert delivery["tries"][1]["response"] == "ok"
        # A manual retry sends it once more, same id.
        with live.client() as c:
            retried = c.post(f"/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/retry")
            assert retried.status_code == 202
        got = receiver.wait(lambda g: len(g) >= 3)
        assert got[2].id == got[0].id
        # Rotation: the new secret signs, the old one no longer does.
        with live.client() as c:
            rotated = c.patch(f"/v1/webhooks/{hook['id']}", json={"rotate_secret": True}).json()
        assert rotated["secret"] != secret
        add_alerts(module_db, 1, first=2)
        last = receiver.wait(lambda g: len(g) >= 4)[3]
        assert last.verifies(rotated["secret"]) and not last.verifies(secret)
        with live.client() as c:
            assert c.delete(f"/v1/webhooks/{hook['id']}").status_code == 204


@pytest.mark.slow
def test_a_receiver_down_for_a_while_gets_every_alert(
    module_db: str, tmp_path: Path, receiver: Receiver
) -> None:
    """Up, then down while alerts come, then up: every alert arrives, exactly once per
    webhook-id (a repeat only ever with the same id and the same signed body)."""
    with serve(module_db, tmp_path, *FAST) as live:
        hook = create(live, receiver.url)
        rows = add_alerts(module_db, 5, first=100)
        receiver.wait(lambda g: len(g) >= 5)
        receiver.stop()  # down
        rows += add_alerts(module_db, 20, first=105)
        receiver_up_after_failures(live, hook["id"])
        receiver.start()  # up again, on the same port
        got = receiver.wait(lambda g: len({r.id for r in g}) >= 25)
        found = settled(live, hook["id"], 25)
    by_id: dict[str, bytes] = {}
    for r in got:
        assert by_id.setdefault(r.id, r.body) == r.body  # a repeat: same id, same body
        assert r.verifies(hook["secret"])
    ids_of: dict[str, set[str]] = {}
    for msg_id, body in by_id.items():
        data = orjson.loads(body)["data"]
        assert msg_id == f"msg_{data['id']}"
        ids_of.setdefault(data["subject"], set()).add(msg_id)
    assert set(ids_of) == {row.subject for row in rows}  # every alert
    assert all(len(ids) == 1 for ids in ids_of.values())  # each under one id only
    assert all(d["status"] == "delivered" for d in found)
    late = [d for d in found if d["attempts"] > 1]
    assert len(late) == 20
    assert all(d["tries"][0]["status_code"] is None and d["tries"][-1]["status_code"] == 200
               for d in late)  # fmt: skip


def receiver_up_after_failures(live: Live, webhook_id: str) -> None:
    """Wait until each of the 20 newest deliveries failed at least twice (connection
    refused)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = deliveries(live, webhook_id)[:20]
        if len(found) == 20 and all(d["attempts"] >= 2 for d in found):
            assert all(d["tries"][0]["status_code"] is None for d in found)
            assert all(d["tries"][0]["error"] for d in found)
            return
        time.sleep(0.1)
    raise AssertionError("deliveries did not fail as expected")


@pytest.mark.slow
def test_sigkill_with_deliveries_pending_loses_none(module_db: str, tmp_path: Path) -> None:
    port = free_port()
    receiver = Receiver(free_port())  # down while the first server runs
    with serve(module_db, tmp_path, *FAST, port=port) as live:
        hook = create(live, receiver.url)
        rows = add_alerts(module_db, 15, first=200)
        receiver_up_after_failures_n(live, hook["id"], 15)
        live.kill()
    receiver.start()
    try:
        with serve(module_db, tmp_path, *FAST, port=port):
            got = receiver.wait(lambda g: len({r.id for r in g}) >= 15)
    finally:
        receiver.stop()
    assert {r.json()["data"]["subject"] for r in got} == {row.subject for row in rows}


def receiver_up_after_failures_n(live: Live, webhook_id: str, n: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = deliveries(live, webhook_id)
        if len(found) == n and all(d["attempts"] >= 1 for d in found):
            return
        time.sleep(0.1)
    raise AssertionError("deliveries were not attempted")


def test_metadata_addresses_are_refused(module_db: str, tmp_path: Path) -> None:
    with serve(module_db, tmp_path, *FAST) as live, live.client() as c:
        for url in ("http://169.254.169.254/latest", "http://[fd00:ec2::254]/",
                    "http://100.100.100.200/", "http://[::ffff:169.254.169.254]/",
                    "ftp://example.com/", "http://user:pw@example.com/", "http:///x"):  # fmt: skip
            reply = c.post("/v1/webhooks", json={"url": url})
            assert reply.status_code == 400, (url, reply.text)
            assert reply.json()["error"]["param"] == "url"
        # A name for 169.254.169.254 (inet_aton's decimal form) passes creation and is
        # refused when it is resolved, at send time.
        hook = create(live, "http://2852039166/hook")
        add_alerts(module_db, 1, first=300)
        deadline = time.monotonic() + 20
        while True:
            found = deliveries(live, hook["id"])
            if found and found[0]["tries"]:
                break
            assert time.monotonic() < deadline
            time.sleep(0.1)
        error = found[0]["tries"][0]["error"]
        assert "169.254.169.254" in error and "refused" in error, error
        assert found[0]["tries"][0]["status_code"] is None
        # Failed at once, not retried for a day.
        tried = datetime.fromisoformat(found[0]["tries"][0]["at"])
        assert found[0]["status"] == "pending" and found[0]["attempts"] == 1
        wait = datetime.fromisoformat(found[0]["next_attempt"]) - tried
        assert 86_399 <= wait.total_seconds() <= 86_401, wait
        # Changing an endpoint's URL to a refused address is refused too.
        for url in ("http://169.254.169.254/", "http://[fe80::1]/h"):
            reply = c.patch(f"/v1/webhooks/{hook['id']}", json={"url": url})
            assert reply.status_code == 400, (url, reply.text)
            assert reply.json()["error"]["param"] == "url"
        c.delete(f"/v1/webhooks/{hook['id']}")


def test_only_admin_keys_manage_webhooks(module_db: str, tmp_path: Path) -> None:
    with serve(module_db, tmp_path, *FAST) as live, live.client() as c:
        keys = [
            c.post("/v1/keys", json={"role": role, **extra}).json()["key"]
            for role, extra in (("read", {}), ("read", {"subject": "s1"}), ("ingest", {}))
        ]
        hook = create(live, "http://127.0.0.1:9/")
        for key in keys:
            with live.client(key) as k:
                assert k.get("/v1/webhooks").status_code == 403
                assert k.post("/v1/webhooks", json={"url": "http://x.test/"}).status_code == 403
                assert k.patch(f"/v1/webhooks/{hook['id']}", json={}).status_code == 403
                assert k.delete(f"/v1/webhooks/{hook['id']}").status_code == 403
        c.delete(f"/v1/webhooks/{hook['id']}")


@pytest.mark.slow
def test_two_workers_send_each_alert_once(
    module_db: str, tmp_path: Path, receiver: Receiver
) -> None:
    """Each API process runs a sender; the leases keep them off each other's deliveries."""
    with serve(module_db, tmp_path, *FAST, "--workers", "2") as live:
        hook = create(live, receiver.url)
        rows = add_alerts(module_db, 40, first=400)
        got = receiver.wait(lambda g: len(g) >= 40)
        time.sleep(1)  # a second sender's duplicate would have come by now
        got = receiver.received()
        settled(live, hook["id"], 40)
        assert sorted(r.json()["data"]["subject"] for r in got) == sorted(
            str(row.subject) for row in rows
        )
        assert len({r.id for r in got}) == len(got) == 40
        assert all(d["status"] == "delivered" for d in settled(live, hook["id"], 40))
        with live.client() as c:
            c.delete(f"/v1/webhooks/{hook['id']}")


def cli(live: Live, *args: str, code: int = 0) -> str:
    env = {**os.environ, "USAGEKIT_URL": live.url, "USAGEKIT_API_KEY": ADMIN_KEY, "COLUMNS": "200"}
    done = subprocess.run([USAGEKIT, *args], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == code, (done.stdout, done.stderr)
    return done.stdout


@pytest.mark.slow
def test_sdk_and_cli(module_db: str, tmp_path: Path, receiver: Receiver) -> None:
    with serve(module_db, tmp_path, *FAST) as live:
        with Client(live.url, ADMIN_KEY) as sdk:
            hook = sdk.create_webhook(receiver.url, [CROSSED], "sdk")
            assert hook.secret is not None and hook.event_types == [CROSSED]
            rows = add_alerts(module_db, 2, first=500)
            got = receiver.wait(lambda g: len(g) >= 2)
            assert all(r.verifies(hook.secret) for r in got)
            newest = next(iter(sdk.alerts(subject="s501")))
            assert (newest.subject, newest.usage, newest.limit) == ("s501", 1301, "api-calls")
            assert newest.period_start == datetime(2026, 9, 1, tzinfo=UTC)
            assert len(list(sdk.alerts(page_size=1))) >= len(rows)
            settled(live, hook.id, 2)
            delivered = sdk.webhook_deliveries(hook.id)
            assert [d.status for d in delivered] == ["delivered"] * 2
            assert delivered[0].tries[0].status_code == 200
            assert delivered[0].webhook_id == f"msg_{delivered[0].alert_id}"
            off = sdk.update_webhook(hook.id, enabled=False, description="off")
            assert (off.enabled, off.description, off.secret) == (False, "off", None)
            rotated = sdk.update_webhook(hook.id, rotate_secret=True, enabled=True)
            assert rotated.secret not in (None, hook.secret) and rotated.enabled
            assert [w.id for w in sdk.webhooks()].count(hook.id) == 1
            sdk.retry_delivery(hook.id, delivered[0].id)
            assert receiver.wait(lambda g: len(g) >= 3)[2].verifies(str(rotated.secret))
            sdk.delete_webhook(hook.id)
            with pytest.raises(UsagekitError):
                sdk.get_webhook(hook.id)
        made = cli(live, "webhooks", "create", receiver.url, "--description", "cli")
        secret = made.strip().splitlines()[-1]
        assert secret.startswith("whsec_")
        listed = orjson.loads(cli(live, "webhooks", "list", "-f", "json"))
        [mine] = [w for w in listed if w["description"] == "cli"]
        add_alerts(module_db, 1, first=600)
        last = receiver.wait(lambda g: len(g) >= 4)[3]
        assert last.verifies(secret) and last.json()["data"]["subject"] == "s600"
        rotated_out = cli(live, "webhooks", "update", mine["id"], "--rotate-secret", "--disable")
        assert rotated_out.strip().splitlines()[-1].startswith("whsec_")
        settled(live, mine["id"], 1)
        shown = orjson.loads(cli(live, "webhooks", "deliveries", mine["id"], "-f", "json"))
        assert [d["status"] for d in shown] == ["delivered"]
        alerts = orjson.loads(cli(live, "alerts", "--subject", "s600", "-f", "json"))
        assert [(a["subject"], a["usage"]) for a in alerts] == [("s600", 1400)]
        cli(live, "webhooks", "delete", mine["id"])
        assert mine["id"] not in cli(live, "webhooks", "list")


def test_the_async_sdk(module_db: str, tmp_path: Path) -> None:
    async def run(url: str) -> None:
        async with AsyncClient(url, ADMIN_KEY) as sdk:
            hook = await sdk.create_webhook("http://127.0.0.1:9/async")
            assert hook.secret is not None
            assert hook.id in [w.id for w in await sdk.webhooks()]
            with Client(url, ADMIN_KEY) as blocking:
                want = [a.id for a in blocking.alerts()]
            assert [a.id async for a in sdk.alerts(page_size=2)] == want
            await sdk.delete_webhook(hook.id)

    with serve(module_db, tmp_path, *FAST) as live:
        add_alerts(module_db, 3, first=700)
        asyncio.run(run(live.url))


@pytest.mark.slow
def test_a_receiver_too_slow_to_answer_is_retried(
    module_db: str, tmp_path: Path, receiver: Receiver
) -> None:
    with serve(module_db, tmp_path, *FAST) as live:
        hook = create(live, receiver.url)
        receiver.delays = [3.0]  # over the 2 s timeout
        add_alerts(module_db, 1, first=800)
        got = receiver.wait(lambda g: len(g) >= 2)
        assert got[0].id == got[1].id
        deadline = time.monotonic() + 20
        while True:
            [delivery] = deliveries(live, hook["id"])
            if delivery["status"] == "delivered":
                break
            assert time.monotonic() < deadline, delivery
            time.sleep(0.1)
        first, second = delivery["tries"]
        assert first["status_code"] is None and first["error"] == "timed out after 2 s"
        assert first["latency_ms"] >= 2000
        assert second["status_code"] == 200
        with live.client() as c:
            c.delete(f"/v1/webhooks/{hook['id']}")
