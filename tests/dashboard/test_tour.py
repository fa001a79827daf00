"""Every page through navigation and window resizes, at desktop and phone width: no errors."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import ADMIN_KEY
from tests.dashboard.browser import collect_errors, shown_query, sign_in, visit
from tests.live import Live

WIDTHS = (1366, 390)
# Main-navigation link, and what shows once that page has loaded.
PAGES = [
    ("Events", "#events-table tbody tr td:nth-child(2)"),
    ("Failures", "#failures-table tbody tr"),
    ("Limits", "main h1 + p.muted"),
    ("Webhooks", "#alerts[aria-busy=false]"),
    ("Meters", "#meters-table"),
    ("Keys", "#keys-table"),
    ("Tenants", "#tenants-table"),
    ("Overview", "#meters[aria-busy=false] .card .spark canvas"),
]


def resize_back_and_forth(page: Page, width: int) -> None:
    for w in (*WIDTHS, *WIDTHS, width):
        page.set_viewport_size({"width": w, "height": 800})
        page.wait_for_timeout(60)


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
def test_no_errors_across_pages_and_resizes(browser: Browser, live: Live, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    errors = collect_errors(page)
    sign_in(page, live.url, ADMIN_KEY)
    page.wait_for_selector("#meters[aria-busy=false] .card .spark canvas")
    resize_back_and_forth(page, width)
    for _ in range(2):
        page.locator(".card[data-meter=cpu_time] h3 a").click()
        shown_query(page)
        resize_back_and_forth(page, width)
        # Each of these draws the chart again, in place of the last one.
        page.get_by_label("Range").select_option("7d")
        page.get_by_label("Group by").select_option("project")
        shown_query(page)
        page.get_by_role("button", name="Show").click()
        shown_query(page)
        resize_back_and_forth(page, width)
        for name, ready in PAGES:
            visit(page, name)
            page.wait_for_selector(ready)
            resize_back_and_forth(page, width)
    assert page.locator("#chart").count() == 0
    assert errors == []
    context.close()
