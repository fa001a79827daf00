"""At 390 px every page fits the screen: no sideways scrolling, every button in reach."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.conftest import ADMIN_KEY
from tests.dashboard.browser import sign_in, visit
from tests.live import Live

PHONE = {"width": 390, "height": 844}
ROUTES = {
    "#/": "#meters[aria-busy=false] .card .spark canvas",
    "#/meter/cpu_time?range=30d&group=subject": "#result[aria-busy=false] #chart canvas",
    "#/events": "#events-table tbody tr td:nth-child(2)",
    "#/failures": "#failures-table tbody tr button",
    "#/admin/meters": "#meters-table tbody tr button",
    "#/admin/keys": "#keys-table tbody tr button",
    "#/admin/tenants": "#tenants-table",
    "#/limits": "#limits-table",
    "#/limit/phone-cap": "#usage[aria-busy=false] #limit-chart canvas",
    "#/webhooks": "#alerts[aria-busy=false]",
}
PHONE_CAP = {"slug": "phone-cap", "meter": "cpu_time", "period": "rolling_30d", "limit": 1000}
# Each visible button or field: scrolled into view by the page only (no sideways scroll of
# any box), then it must lie inside the screen and answer a click at its centre and corners.
OUT_OF_REACH = """(root) => {
  const out = [];
  const reached = (el, [x, y]) => {
    const at = document.elementFromPoint(x, y);
    return at && el.contains(at);
  };
  for (const el of document.querySelector(root).querySelectorAll('button, select, input, a')) {
    if (!el.checkVisibility() || el.classList.contains('skip')) continue;
    let r = el.getBoundingClientRect();
    window.scrollTo(0, window.scrollY + r.top - innerHeight / 2);
    r = el.getBoundingClientRect();
    const [x0, x1, y0, y1] = [r.left + 2, r.right - 2, r.top + 2, r.bottom - 2];
    const points = [[(x0 + x1) / 2, (y0 + y1) / 2], [x0, y0], [x1, y0], [x0, y1], [x1, y1]];
    if (r.left < 0 || r.right > innerWidth || !points.every((p) => reached(el, p))) {
      const name = (el.getAttribute('aria-label') || el.textContent || el.name).trim();
      out.push(`${el.tagName} "${name}" at ${Math.round(r.left)}..${Math.round(r.right)}`);
    }
  }
  window.scrollTo(0, 0);
  return out;
}"""
WIDE_BOXES = """() => [...document.querySelectorAll('.table-wrap')]
  .filter(w => w.querySelector('button') && w.scrollWidth > w.clientWidth + 1)
  .map(w => `${w.getAttribute('aria-label')}: ${w.scrollWidth} > ${w.clientWidth}`)"""


def phone(browser: Browser, live: Live) -> Page:
    page = browser.new_context(viewport=PHONE).new_page()
    sign_in(page, live.url, ADMIN_KEY)
    return page


def check_fits(page: Page, route: str, root: str = "body") -> dict[str, Any]:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{route} is {width}px wide"
    assert page.evaluate(OUT_OF_REACH, root) == [], route
    assert page.evaluate(WIDE_BOXES) == [], route
    found: dict[str, Any] = page.evaluate(
        "() => ({header: document.querySelector('header').offsetHeight})"
    )
    return found


def test_every_page_fits_a_phone(browser: Browser, live: Live, api: httpx.Client) -> None:
    api.post("/v1/events", json=[{"id": "ph-1", "type": "job", "subject": "x", "time": "later"}])
    assert api.post("/v1/limits", json=PHONE_CAP).status_code in (201, 409)
    page = phone(browser, live)
    for route, ready in ROUTES.items():
        page.goto(f"{live.url}/{route}")
        page.wait_for_selector(ready)
        page.wait_for_timeout(150)  # charts take their width after layout
        found = check_fits(page, route)
        assert found["header"] <= 64, f"navigation takes {found['header']}px on {route}"
    page.context.close()


def test_the_menu_reaches_every_page_on_a_phone(browser: Browser, live: Live) -> None:
    page = phone(browser, live)
    pages = ("Events", "Failures", "Limits", "Webhooks", "Meters", "Keys", "Tenants", "Overview")
    for name in pages:
        visit(page, name)
        expect(page.get_by_role("heading", level=1)).to_contain_text(name)
        assert page.evaluate("document.querySelector('header').offsetHeight") <= 64
    page.locator("#menu").click()
    check_fits(page, "the open menu", "header")  # over the page, which it covers
    links = page.get_by_role("navigation", name="Main").get_by_role("link")
    assert links.count() == 8
    page.keyboard.press("Escape")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link").first).to_be_hidden()
    page.context.close()


def test_buttons_in_table_rows_work_on_a_phone(
    browser: Browser, live: Live, api: httpx.Client
) -> None:
    api.post("/v1/events", json=[{"id": "ph-2", "type": "job", "subject": "y", "time": "never"}])
    newest = api.get("/v1/failures").json()["data"][0]
    page = phone(browser, live)
    visit(page, "Failures")
    row = page.locator(f"#failures-table tr[data-id='{newest['id']}']")
    row.get_by_role("button", name=f"Retry failure {newest['id']}", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("still fails")
    data = {"cpu_ms": 205_588_000_000, "project": "apollo", "region": "eu-west", "queue": "gpu"}
    event = {"id": "ph-3", "type": "job", "subject": "zoe", "time": "2026-01-02T03:04:05Z"}
    api.post("/v1/events", json=[{**event, "source": "slurm", "data": data}]).raise_for_status()
    visit(page, "Events")
    page.get_by_label("Subject").fill("zoe")
    page.get_by_role("button", name="Search").click()
    row = page.locator("#events-table tr[data-id='ph-3']")
    expect(row).to_contain_text("apollo")
    cells = row.evaluate("r => [...r.cells].map(c => c.getBoundingClientRect().right)")
    assert max(cells) <= PHONE["width"], "cells off to the right"
    height = row.evaluate("r => r.offsetHeight")
    assert height <= 300, f"an event takes {height}px"
    page.context.close()
