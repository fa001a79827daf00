"""Totals in human units with the exact value on hover; axes and colours of the charts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.dashboard.browser import shown_query, sign_in
from tests.live import Live

BYTES = [("B", 1), ("kB", 10**3), ("MB", 10**6), ("GB", 10**9), ("TB", 10**12), ("PB", 10**15)]
MILLIS = [("ms", 1), ("s", 1000), ("min", 60_000), ("h", 3_600_000)]
# Meter, unit, and the values sent: sums past 2^53 and past 2^63 included.
SENT: dict[str, tuple[str, list[int]]] = {
    "transfer": ("bytes", [4_611_686_018_427_387_904, 4_611_686_018_427_387_905, 1]),
    "scratch": ("bytes", [9_508_522_734_000, 999]),
    "cpu": ("ms", [205_000_000_000, 588_464_000, 892]),
    "tokens": ("tokens", [9_007_199_254_740_993, 7]),
}
SUBJECTS = [f"user{i:02}" for i in range(11)]


def human(total: int, unit: str) -> str:
    """The rule the dashboard follows: the largest unit the total reaches, 3+ digits shown."""
    ladder = {"bytes": BYTES, "ms": MILLIS}.get(unit)
    if ladder is None:
        return f"{total:,} {unit}"
    name, step = next(((n, s) for n, s in reversed(ladder) if total >= s), ladder[0])
    scaled = Decimal(total) / step
    digits = 0 if scaled >= 100 else 1 if scaled >= 10 else 2
    text = f"{round(scaled, digits):,.{digits}f}"
    return f"{text.rstrip('0').rstrip('.') if digits else text} {name}"


@pytest.fixture(scope="module")
def tenant_key(live: Live) -> str:
    """A tenant of its own, so these totals are known exactly."""
    with live.client() as admin:
        admin.post("/v1/tenants", json={"name": "units"}).raise_for_status()
        made = admin.post("/v1/keys", json={"tenant": "units", "role": "admin"}).json()
    key: str = made["key"]
    at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    with live.client(key) as api:
        events: list[dict[str, Any]] = []
        for slug, (unit, values) in SENT.items():
            meter = {"slug": slug, "event_type": slug, "aggregation": "sum",
                     "value_property": "v", "unit": unit}  # fmt: skip
            api.post("/v1/meters", json=meter).raise_for_status()
            events += [{"id": f"{slug}-{i}", "type": slug, "subject": "alice", "time": at,
                        "data": {"v": v}} for i, v in enumerate(values)]  # fmt: skip
        api.post("/v1/meters", json={"slug": "visits", "event_type": "visit",
                                    "aggregation": "count"}).raise_for_status()  # fmt: skip
        events += [{"id": f"visit-{s}", "type": "visit", "subject": s, "time": at}
                   for s in SUBJECTS]  # fmt: skip
        api.post("/v1/events", json=events).raise_for_status()
    return key


@pytest.fixture
def tenant_page(browser: Browser, live: Live, tenant_key: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    sign_in(page, live.url, tenant_key)
    yield page
    context.close()


def test_overview_totals_in_units_with_exact_titles(
    tenant_page: Page, live: Live, tenant_key: str
) -> None:
    page = tenant_page
    page.wait_for_selector("#meters[aria-busy=false] .card .total:not(.pending)")
    for slug, (unit, values) in SENT.items():
        total = page.locator(f".card[data-meter={slug}] .total")
        assert total.inner_text() == human(sum(values), unit), slug
        assert total.get_attribute("title") == f"{sum(values):,} {unit}", slug
        assert total.get_attribute("data-total") == str(sum(values))
    with live.client(tenant_key) as api:
        health = api.get("/v1/ingestion").json()
    accepted = page.locator("[data-stat=accepted]")
    assert accepted.inner_text() == f"{health['accepted']:,}"
    assert accepted.get_attribute("title") == f"{health['accepted']:,} records"


def test_meter_page_sums_in_units_with_exact_titles(tenant_page: Page, live: Live) -> None:
    page = tenant_page
    for slug, (unit, values) in SENT.items():
        page.goto(f"{live.url}/#/meter/{slug}?range=7d")
        shown_query(page)
        total = page.locator("#result .sum")
        assert total.inner_text() == human(sum(values), unit), slug
        assert total.get_attribute("title") == f"{sum(values):,} {unit}", slug


def test_hourly_ingest_chart_has_axes(tenant_page: Page) -> None:
    plot = tenant_page.locator(".health .chart .u-over")
    plot.wait_for()
    box = plot.evaluate(
        "o => ({left: o.offsetLeft,"
        " bottom: o.parentElement.offsetHeight - o.offsetTop - o.offsetHeight})"
    )
    assert box["left"] >= 30 and box["bottom"] >= 20, f"no room for axes: {box}"


def test_eleven_series_have_eleven_colours(tenant_page: Page, live: Live) -> None:
    page = tenant_page
    page.goto(f"{live.url}/#/meter/visits?range=7d&group=subject")
    shown_query(page)
    colours = page.eval_on_selector_all(
        "#chart .u-legend .u-series:not(:first-child) .u-marker",
        "ms => ms.map(m => getComputedStyle(m).borderTopColor)",
    )
    assert len(colours) == len(SUBJECTS)
    assert len(set(colours)) == len(SUBJECTS), colours
