"""One seeded `usagekit serve` and one headless Chromium for the dashboard tests.

Package scope, not session: Playwright's sync API keeps an event loop running in
the main thread while it is open, which later asyncio.run() calls would trip on.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import ADMIN_KEY
from tests.dashboard import seed
from tests.dashboard.browser import CHROMIUM, chromium, sign_in
from tests.live import Live, serve


@pytest.fixture(scope="package")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("dashboard")
    with serve(f"sqlite:///{tmp}/dash.db", tmp) as server:
        with server.client() as client:
            seed.load(client, datetime.now(UTC))
        yield server


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    with chromium() as opened:
        yield opened


@pytest.fixture
def api(live: Live) -> Iterator[httpx.Client]:
    with live.client() as client:
        yield client


@pytest.fixture
def page(browser: Browser, live: Live) -> Iterator[Page]:
    """A fresh browser context (own sessionStorage), signed in with the admin key."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(opened, live.url, ADMIN_KEY)
    yield opened
    context.close()
    assert errors == [], errors
