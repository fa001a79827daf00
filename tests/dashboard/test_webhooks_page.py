"""The webhooks page: endpoints, a delivery log against a real local receiver (a failed
attempt, then Retry delivers), and the recent alerts."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.browser import table_rows, visit
from tests.live import Live, free_port
from tests.webhook_receiver import Receiver
from usagekit.store import Store
from usagekit.store.alerts import CROSSED, AlertRow, record

T0 = 1_788_220_800_000  # 2026-09-01T00:00:00Z


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(free_port())
    r.start()
    yield r
    r.stop()


def add_alert(live: Live, subject: str) -> None:
    """An alert committed into the server's database as the writer would make it (the
    package's server keeps its SQLite file beside its log, tests/dashboard/conftest.py)."""
    store = Store.open(f"sqlite:///{live.log.parent}/dash.db")
    try:
        tenant = store.accounts.tenant_by_name("default")
        assert tenant is not None
        row = AlertRow(tenant.id, CROSSED, 1, "cpu-eu", subject, 80, 3_300_000, 4_000_000,
                       T0, T0 + 86_400_000, int(time.time() * 1000))  # fmt: skip
        with store.events.write_engine.begin() as conn:
            record(conn, [row])
    finally:
        store.close()


def test_delivery_log_and_retry(page: Page, api: httpx.Client, live: Live,
                                receiver: Receiver) -> None:  # fmt: skip
    made = api.post("/v1/webhooks", json={"url": receiver.url, "description": "ops"})
    assert made.status_code == 201, made.text
    hook = made.json()
    receiver.statuses = [500] * 50  # every attempt fails until the test says otherwise
    add_alert(live, "alice")
    receiver.wait(lambda got: len(got) >= 1)

    visit(page, "Webhooks")
    row = page.locator("#webhooks-table tbody tr", has_text=receiver.url)
    expect(row).to_contain_text("enabled")
    alerts = api.get("/v1/alerts", params={"limit": 50}).json()["data"]
    shown = table_rows(page, "#alerts-table")
    assert [(r[2], r[3], r[4]) for r in shown] == [
        (a["limit"], a["subject"] or "(tenant)", f"{a['threshold']}%") for a in alerts
    ]

    row.get_by_role("link", name=f"Deliveries of {receiver.url}").click()
    page.wait_for_selector("#deliveries-table tbody tr[data-id]")
    [delivery] = api.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["data"]
    failed = page.locator(f"#deliveries-table tr[data-id='{delivery['id']}']")
    expect(failed).to_have_attribute("data-status", "pending")
    last = delivery["tries"][-1]
    cells = table_rows(page, "#deliveries-table")[0]
    assert cells[3:7] == [str(delivery["attempts"]), "500", f"{last['latency_ms']} ms", "ok"]

    receiver.statuses.clear()  # the receiver is well again
    failed.get_by_role("button", name=f"Retry delivery {delivery['id']}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Delivery {delivery['id']} sent again")
    done = page.locator(f"#deliveries-table tr[data-id='{delivery['id']}']")
    expect(done).to_have_attribute("data-status", "delivered", timeout=10_000)
    after = api.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["data"][0]
    assert after["status"] == "delivered" and after["attempts"] > delivery["attempts"]
    assert after["attempts"] == len(receiver.received())  # every attempt reached it
    assert table_rows(page, "#deliveries-table")[0][3:5] == [str(after["attempts"]), "200"]
    api.delete(f"/v1/webhooks/{hook['id']}")
