"""Debian's chromium under Playwright (nothing downloaded: executable_path is set)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page: Page, url: str, key: str) -> None:
    page.goto(url + "/")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()  # the navigation may be folded


def table_rows(page: Page, selector: str) -> list[list[str]]:
    """The text of every body cell of a table, row by row (once the table is shown)."""
    page.wait_for_selector(selector)
    rows: list[list[str]] = page.eval_on_selector(
        selector,
        "t => [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent))",
    )
    return rows


def shown_query(page: Page) -> str:
    """The query string the meter page sent to the API for what it shows."""
    page.wait_for_selector("#result[aria-busy=false]")
    query: str = page.get_attribute("#result", "data-query") or ""
    return query


def visit(page: Page, name: str) -> None:
    """Follow a main-navigation link, opening the menu first where it is folded (phones)."""
    menu = page.locator("#menu")
    if menu.count() and menu.is_visible() and menu.get_attribute("aria-expanded") != "true":
        menu.click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()
    page.wait_for_selector("main h1")


def collect_errors(page: Page) -> list[str]:
    """Console errors and uncaught exceptions of the page, as they come."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors
