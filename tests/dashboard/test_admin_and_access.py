"""Admin pages (meters, keys, tenants), what a read key sees, keyboard and narrow screens."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.conftest import ADMIN_KEY
from tests.dashboard.browser import sign_in, table_rows
from tests.live import Live


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()


def test_create_and_revoke_a_key(page: Page, live: Live, api: httpx.Client) -> None:
    nav(page, "Keys")
    page.get_by_label("Role").select_option("read")
    page.get_by_label("Subject").fill("alice")
    page.get_by_label("Name").fill("alice's reader")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#secret-value").inner_text()
    assert secret.startswith("uk_")
    made = next(k for k in api.get("/v1/keys").json() if k["name"] == "alice's reader")
    assert made["subject"] == "alice" and made["role"] == "read" and made["revoked"] is None
    assert any(r[0] == made["id"] for r in table_rows(page, "#keys-table"))
    with live.client(secret) as alice:
        mine = alice.get("/v1/events", params={"limit": 1000}).json()["data"]
        assert mine and {e["subject"] for e in mine} == {"alice"}

    page.reload()
    page.wait_for_selector("#keys-table")
    assert secret not in page.content()  # shown once, in the reply only

    page.get_by_role("button", name=f"Revoke key {made['id']}", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke key").click()
    expect(page.get_by_role("status")).to_contain_text(f"Key {made['id']} revoked")
    assert next(k for k in api.get("/v1/keys").json() if k["id"] == made["id"])["revoked"]
    with live.client(secret) as alice:
        assert alice.get("/v1/meters").status_code == 401


def test_create_and_delete_a_meter_and_a_tenant(page: Page, api: httpx.Client) -> None:
    nav(page, "Meters")
    page.get_by_label("Slug").fill("region_jobs")
    page.get_by_label("Event type").fill("job")
    page.get_by_label("Aggregation").select_option("count")
    page.get_by_label("Dimensions").fill("region=region")
    page.get_by_role("button", name="Create meter").click()
    expect(page.get_by_role("status")).to_contain_text("Meter region_jobs created")
    meter = api.get("/v1/meters/region_jobs").json()
    assert meter["aggregation"] == "count" and meter["dimensions"] == {"region": "region"}
    jobs = api.get("/v1/meters/jobs/query", params={"from": "2000-01-01T00:00:00Z"}).json()
    mine = api.get("/v1/meters/region_jobs/query", params={"from": "2000-01-01T00:00:00Z"}).json()
    assert [r["value"] for r in mine["data"]] == [r["value"] for r in jobs["data"]]  # backfilled

    page.get_by_label("Slug").fill("Bad Slug")
    page.get_by_label("Event type").fill("job")
    page.evaluate("document.querySelector('input[name=slug]').removeAttribute('pattern')")
    page.get_by_role("button", name="Create meter").click()
    expect(page.get_by_role("status")).to_contain_text("slug")
    assert api.get("/v1/meters/Bad Slug").status_code == 404

    page.get_by_role("button", name="Delete meter region_jobs", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="Delete meter").click()
    expect(page.get_by_role("status")).to_contain_text("Meter region_jobs deleted")
    assert api.get("/v1/meters/region_jobs").status_code == 404

    nav(page, "Tenants")
    page.get_by_label("Name").fill("acme")
    page.get_by_role("button", name="Create tenant").click()
    expect(page.locator("#tenants-table")).to_contain_text("acme")
    assert "acme" in [t["name"] for t in api.get("/v1/tenants").json()]


def test_a_read_key_sees_no_admin_pages_and_no_void(
    browser: Browser, live: Live, api: httpx.Client
) -> None:
    secret = api.post("/v1/keys", json={"role": "read", "name": "viewer"}).json()["key"]
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sign_in(page, live.url, secret)
    links = page.get_by_role("navigation").get_by_role("link").all_inner_texts()
    assert links == ["Overview", "Events", "Failures", "Limits", "Alerts"]
    nav(page, "Events")
    page.wait_for_selector("#events-table tbody tr td:nth-child(2)")
    assert page.get_by_role("button", name="Void…").count() == 0
    nav(page, "Failures")
    page.wait_for_selector("#failures-table tbody tr")
    assert page.get_by_role("button", name="Retry").count() == 0
    nav(page, "Alerts")
    page.wait_for_selector("#alerts[aria-busy=false]")
    assert page.locator("#endpoints").count() == 0  # webhook endpoints are for admin keys
    context.close()


def test_keyboard_and_narrow_screen(browser: Browser, live: Live) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(live.url + "/")
    assert page.evaluate("document.activeElement.name") == "key"  # sign-in starts at the key
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")  # past the brand link: the skip link comes first
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main" and page.url.endswith("/")
    page.get_by_label("API key").focus()
    page.keyboard.type(ADMIN_KEY)
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Sign out").wait_for()
    page.wait_for_selector("#meters[aria-busy=false] .card .spark canvas")
    for route in ("#/", "#/meter/cpu_time?group=project", "#/events", "#/failures", "#/admin/keys"):
        page.goto(f"{live.url}/{route}")
        page.wait_for_selector("main h1")
        page.wait_for_timeout(200)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 360, f"{route} is {wide}px wide on a 360px screen"
    page.goto(f"{live.url}/#/meter/cpu_time")
    # A hash change does not wait for the page: let it render and load before typing.
    page.wait_for_selector("#result[aria-busy=false]")
    page.wait_for_selector("[name=tz]")  # the form is drawn in full before focus moves
    page.get_by_label("Range").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "tz"
    unlabeled = page.evaluate(
        "[...document.querySelectorAll('input, select')].filter(e => !e.labels.length && "
        "!e.getAttribute('aria-label') && e.type !== 'hidden').map(e => e.name)"
    )
    assert unlabeled == []
    context.close()


def test_a_subject_key_sees_its_own_usage_only(
    browser: Browser, live: Live, api: httpx.Client
) -> None:
    secret = api.post("/v1/keys", json={"role": "read", "subject": "bob"}).json()["key"]
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sign_in(page, live.url, secret)
    page.wait_for_selector("#meters[aria-busy=false] .card")
    expect(page.locator(".health")).to_contain_text("tenant-wide")
    window = page.locator("#meters p.muted").first.inner_text().split(" · ")[0].split(" to ")
    with live.client(secret) as bob:
        summary = bob.get("/v1/usage/summary", params={"from": window[0], "to": window[1]}).json()
    totals = {r["meter"]: str(r["value"]) for r in summary["data"]}
    cards = page.eval_on_selector_all(
        ".card", "cs => cs.map(c => [c.dataset.meter, c.querySelector('.total').dataset.total])"
    )
    assert dict(cards) == totals
    everyone = api.get("/v1/usage/summary", params={"from": window[0], "to": window[1]}).json()
    assert {r["meter"]: str(r["value"]) for r in everyone["data"]} != totals
    context.close()
