"""Sign-in, overview, events and void, failures: what the pages show equals the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.conftest import ADMIN_KEY
from tests.dashboard.browser import shown_query, sign_in, table_rows
from tests.live import Live


def test_sign_in_keeps_the_key_in_session_storage_only(browser: Browser, live: Live) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(live.url + "/")
    page.get_by_label("API key").fill("uk_not_a_key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("unknown or revoked")
    sign_in(page, live.url, ADMIN_KEY)
    assert page.evaluate("sessionStorage.getItem('usagekit.key')") == ADMIN_KEY
    assert page.evaluate("localStorage.length") == 0
    assert ADMIN_KEY not in page.url
    page.get_by_role("navigation").get_by_role("link", name="Events").click()
    assert ADMIN_KEY not in page.url
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('usagekit.key')") is None
    page.reload()
    expect(page.get_by_label("API key")).to_be_visible()
    context.close()


def test_overview_totals_and_ingestion_equal_the_api(page: Page, api: httpx.Client) -> None:
    page.wait_for_selector("#meters[aria-busy=false] .card .spark canvas")
    today = datetime.now(UTC).date()
    start = datetime.combine(today - timedelta(days=29), datetime.min.time(), UTC)
    summary = api.get(
        "/v1/usage/summary", params={"from": start.isoformat(), "to": start + timedelta(days=30)}
    ).json()
    totals = {r["meter"]: str(r["value"]) for r in summary["data"]}
    cards = page.eval_on_selector_all(
        ".card", "cs => cs.map(c => [c.dataset.meter, c.querySelector('.total').dataset.total])"
    )
    assert dict(cards) == totals and len(cards) == 4
    health = api.get("/v1/ingestion").json()
    for name in ("accepted", "duplicates", "conflicts", "rejected"):
        shown = page.locator(f"[data-stat={name}]").inner_text().replace(",", "")
        assert int(shown) == health[name]
    assert health["duplicates"] >= 3 and health["rejected"] >= 2

    page.get_by_label("Show idle profile presets").check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_selector("#meters[aria-busy=false]")
    listed = api.get("/v1/meters", params={"include_presets": "true"}).json()
    every = [m["slug"] for m in listed]
    expect(page.locator(".card")).to_have_count(len(every))
    shown = page.eval_on_selector_all(".card", "cs => cs.map(c => c.dataset.meter)")
    assert sorted(shown) == sorted(every)


def test_void_from_the_events_page_changes_the_totals(
    page: Page, live: Live, api: httpx.Client
) -> None:
    page.get_by_role("navigation").get_by_role("link", name="Events").click()
    page.get_by_label("Subject").fill("carol")
    page.get_by_label("Type").fill("job")
    page.get_by_role("button", name="Search").click()
    listed = api.get("/v1/events", params={"subject": "carol", "type": "job", "limit": 50}).json()
    expect(page.locator("#events-table tbody tr")).to_have_count(len(listed["data"]))
    rows = table_rows(page, "#events-table")
    assert [r[1] for r in rows] == [e["id"] for e in listed["data"]]
    assert {r[4] for r in rows} == {"carol"}
    victim = next(e for e in listed["data"] if not e["voided"])

    page.goto(live.url + "/#/meter/cpu_time?range=30d&group=subject")
    before = api.get(f"/v1/meters/cpu_time/query?{shown_query(page)}").json()

    page.goto(live.url + "/#/events?subject=carol&type=job")
    row = page.locator(f"#events-table tr[data-id='{victim['id']}']")

    def voided() -> bool:
        found = api.get("/v1/events", params={"subject": "carol", "limit": 1000}).json()["data"]
        return bool(next(e for e in found if e["id"] == victim["id"])["voided"])

    void = row.get_by_role("button", name=f"Void event {victim['id']}", exact=True)
    void.click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    assert not voided()
    void.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_contain_text(victim["id"])
    page.get_by_role("dialog").get_by_role("button", name="Void event", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(f"Voided {victim['id']}")
    row = page.locator(f"#events-table tr[data-id='{victim['id']}']")
    expect(row).to_have_class(re.compile("is-voided"))
    expect(row.locator(".badge")).to_have_text("voided")
    assert voided()

    page.goto(live.url + "/#/meter/cpu_time?range=30d&group=subject")
    query = shown_query(page)
    after = api.get(f"/v1/meters/cpu_time/query?{query}").json()
    day = victim["time"][:10]

    def carol(answer: dict[str, object]) -> dict[str, int]:
        return {r["start"]: r["value"] for r in answer["data"] if r["group"]["subject"] == "carol"}  # type: ignore[index, union-attr]

    changed = {k: carol(before)[k] - v for k, v in carol(after).items() if carol(before)[k] != v}
    assert {k[:10] for k in changed} == {day}
    assert list(changed.values()) == [victim["data"]["cpu_ms"]]
    shown = {(r[0], r[2]): r[3] for r in table_rows(page, "#series-table")}
    for start, value in carol(after).items():
        assert shown[(start, "carol")] == str(value)


def test_failures_retry_and_clear(page: Page, api: httpx.Client) -> None:
    api.post("/v1/events", json=[{"id": "f-1", "type": "job", "subject": "x", "time": "soon"}])
    page.get_by_role("navigation").get_by_role("link", name="Failures").click()
    listed = api.get("/v1/failures").json()["data"]
    expect(page.locator("#failures-table tbody tr")).to_have_count(len(listed))
    rows = table_rows(page, "#failures-table")
    assert [r[2] for r in rows] == [f["error"] for f in listed]
    newest = listed[0]
    row = page.locator(f"#failures-table tr[data-id='{newest['id']}']")
    row.get_by_role("button", name=f"Retry failure {newest['id']}", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("still fails")
    assert newest["id"] in [f["id"] for f in api.get("/v1/failures").json()["data"]]
    row.get_by_role("button", name=f"Clear failure {newest['id']}", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="Clear", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(f"Failure {newest['id']} cleared")
    expect(page.locator("#failures-table tbody tr")).to_have_count(len(listed) - 1)
    assert newest["id"] not in [f["id"] for f in api.get("/v1/failures").json()["data"]]
