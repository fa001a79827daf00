"""/docs works with no network: Swagger UI's files come from the package.

In Chromium, with every request off this machine aborted: the operations list
renders, Authorize takes a key, and "Try it out" answers with it. (Rides on the
dashboard's live server and browser.)
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Route

from tests.conftest import ADMIN_KEY
from tests.live import Live

LOCAL = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.mark.slow
def test_docs_render_offline_and_authorize_works(browser: Browser, live: Live) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    blocked: list[str] = []
    errors: list[str] = []

    def only_local(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).hostname in LOCAL:
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{live.url}/docs")
        query = page.locator("#operations-meters-query_meter")
        query.wait_for(timeout=15_000)
        assert "/v1/meters/{slug}/query" in query.inner_text()
        assert page.locator(".opblock").count() >= 20

        page.get_by_role("button", name="Authorize").first.click()
        page.locator(".auth-container input").fill(ADMIN_KEY)
        page.locator(".auth-btn-wrapper button.authorize").click()
        page.locator(".auth-btn-wrapper button.btn-done").click()

        listed = page.locator("#operations-meters-list_meters")
        listed.locator(".opblock-summary").click()
        listed.get_by_role("button", name="Try it out").click()
        listed.get_by_role("button", name="Execute").click()
        status = listed.locator(".live-responses-table tbody .response-col_status").first
        status.wait_for(timeout=15_000)
        assert status.inner_text().strip() == "200"
    finally:
        context.close()
    assert blocked == [], blocked
    assert errors == [], errors


def test_the_docs_assets_are_served_and_redoc_is_off(live: Live) -> None:
    page = httpx.get(f"{live.url}/docs").text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"):
        assert f"/docs/{asset}" in page
        reply = httpx.get(f"{live.url}/docs/{asset}")
        assert reply.status_code == 200 and len(reply.content) > 500, asset
    assert "cdn" not in page.lower()
    assert httpx.get(f"{live.url}/redoc").status_code == 404
