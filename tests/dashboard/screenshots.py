"""Screenshots of every dashboard page: `python -m tests.dashboard.screenshots`.

Starts a throwaway `usagekit serve`, loads the seed events, and drives Debian's
chromium through each page at desktop width, plus two pages at phone width.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Page

from tests.conftest import ADMIN_KEY
from tests.dashboard import seed
from tests.dashboard.browser import chromium, shown_query, sign_in
from tests.live import serve

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def shoot(page: Page, name: str, wait: str, full: bool = True) -> None:
    page.wait_for_selector(wait)
    page.wait_for_timeout(300)  # let charts settle after their resize
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full)
    print(f"docs/screenshots/{name}.png")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        serve(f"sqlite:///{tmp}/shots.db", Path(tmp)) as live,
    ):
        with live.client() as api:
            seed.load(api, datetime.now(UTC))
            victim = api.get("/v1/events", params={"subject": "alice", "limit": 3}).json()["data"][
                1
            ]
            api.post("/v1/events/void", json={"ids": [victim["id"]], "source": victim["source"]})
            api.post("/v1/tenants", json={"name": "acme"})
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(live.url + "/")
            shoot(page, "sign-in", "#main form", full=False)
            sign_in(page, live.url, ADMIN_KEY)
            shoot(page, "overview", "#meters[aria-busy=false] .card .spark canvas")
            page.goto(live.url + "/#/meter/cpu_time?range=30d&group=project")
            shown_query(page)
            shoot(page, "meter", "#chart canvas", full=False)
            page.goto(live.url + "/#/events?subject=alice")
            shoot(page, "events", "#events-table tbody tr .badge", full=False)
            page.goto(live.url + "/#/failures")
            page.wait_for_selector("#failures-table details")
            page.locator("#failures-table details").first.click()
            shoot(page, "failures", "#failures-table details[open]")
            page.goto(live.url + "/#/admin/meters")
            shoot(page, "admin-meters", "#meters-table")
            page.goto(live.url + "/#/admin/keys")
            page.get_by_label("Tenant").fill("acme")
            page.get_by_label("Name").fill("acme reporting")
            page.get_by_role("button", name="Create key").click()
            shoot(page, "admin-keys", "#secret-value")
            page.goto(live.url + "/#/admin/tenants")
            shoot(page, "admin-tenants", "#tenants-table")

            phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
            sign_in(phone, live.url, ADMIN_KEY)
            shoot(
                phone, "phone-overview", "#meters[aria-busy=false] .card .spark canvas", full=False
            )
            phone.goto(live.url + "/#/meter/jobs?range=7d&group=project")
            shown_query(phone)
            shoot(phone, "phone-meter", "#chart canvas")


if __name__ == "__main__":
    sys.exit(main())
