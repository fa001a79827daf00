"""The limit pages: the list, a limit's usage chart and its table, the closest subjects;
every number shown equals the API's."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.browser import table_rows, visit
from tests.live import Live

SUMMED = {"slug": "cpu-eu", "meter": "cpu_time", "period": "rolling_30d",
          "tz": "Asia/Kathmandu", "limit": 4_000_000, "thresholds": [50, 80, 100],
          "filter": {"region": ["eu-west"]}}  # fmt: skip
SEATS = {"slug": "seats", "meter": "active_users", "period": "week", "limit": 4,
         "scope": "tenant", "thresholds": [75, 100]}  # fmt: skip


def ensure(api: httpx.Client, limit: dict[str, Any]) -> None:
    reply = api.post("/v1/limits", json=limit)
    assert reply.status_code in (201, 409), reply.text


def shown_usage(page: Page) -> list[Decimal]:
    """The usage by the end of each bucket, as the chart was given it."""
    page.wait_for_selector("#usage[aria-busy=false] #limit-chart canvas")
    values = json.loads(page.get_attribute("#limit-chart", "data-usage") or "[]")
    return [Decimal(v or 0) for v in values]


def running_sums(api: httpx.Client, limit: dict[str, Any], status: dict[str, Any],
                 subject: str) -> list[Decimal]:  # fmt: skip
    """Usage so far at the end of each day of the period, from the meter's query."""
    params: list[tuple[str, str]] = [
        ("from", status["period_start"]), ("to", status["period_end"]), ("granularity", "day"),
        ("tz", limit["tz"]), ("subject", subject),
        *[(f"filter[{d}]", v) for d, vs in limit["filter"].items() for v in vs],
    ]  # fmt: skip
    rows = api.get(f"/v1/meters/{limit['meter']}/query", params=params).json()["data"]
    out, total = [], Decimal(0)
    for row in rows:
        total += Decimal(str(row["value"] or 0))
        out.append(total)
    return out


def test_limit_page_chart_and_closest_subjects_equal_the_api(page: Page, api: httpx.Client) -> None:
    ensure(api, SUMMED)
    visit(page, "Limits")
    listed = [r[0] for r in table_rows(page, "#limits-table")]
    assert "cpu-eu" in listed
    page.get_by_role("link", name="cpu-eu", exact=True).click()
    expect(page.locator("#definition")).to_contain_text("region in eu-west")

    closest = api.get("/v1/limits/cpu-eu/subjects").json()
    rows = page.eval_on_selector_all(
        "#subjects-table tbody tr",
        "rs => rs.map(r => [r.cells[0].textContent,"
        " r.cells[1].querySelector('[data-exact]').dataset.exact, r.cells[3].textContent])",
    )
    want = [[r["subject"], str(r["usage"]), f"{r['percent']:,}%"] for r in closest["data"]]
    assert [[s, u, p.replace(",", "")] for s, u, p in rows] == [
        [s, u, p.replace(",", "")] for s, u, p in want
    ]
    assert page.locator("#subjects-table .bar.over").count() == sum(
        1 for r in closest["data"] if r["percent"] >= 100
    )

    top = closest["data"][0]["subject"]
    status = api.get("/v1/limits/cpu-eu/status", params={"subject": top}).json()
    usage = shown_usage(page)
    assert usage == running_sums(api, SUMMED, status, top)[: len(usage)]
    assert usage[-1] == Decimal(str(status["usage"]))
    assert page.get_attribute("#status-line", "data-usage") == str(status["usage"])
    lines = json.loads(page.get_attribute("#limit-chart", "data-lines") or "[]")
    assert [Decimal(x) for x in lines] == [4_000_000, 2_000_000, 3_200_000]  # limit, 50%, 80%

    other = closest["data"][-1]["subject"]
    page.get_by_role("button", name=f"Show {other} in the chart").click()
    expect(page.locator("#status-line")).to_contain_text(other)
    status = api.get("/v1/limits/cpu-eu/status", params={"subject": other}).json()
    assert shown_usage(page)[-1] == Decimal(str(status["usage"]))
    assert f"subject={other}" in page.url


@pytest.mark.parametrize(
    "limit",
    [
        SEATS,
        {**SEATS, "slug": "seats-today", "period": "day", "tz": "America/St_Johns"},
        {"slug": "peak", "meter": "storage_peak", "period": "rolling_7d", "limit": 400,
         "scope": "tenant"},
    ],
    ids=["unique-week", "unique-day", "max-rolling"],
)  # fmt: skip
def test_tenant_wide_limits_of_other_aggregations(
    page: Page, api: httpx.Client, live: Live, limit: dict[str, Any]
) -> None:
    """Unique counts do not add up: each point is the meter's own answer from the period's
    start (hours of a daily limit too); a max runs as a maximum. The last point is the
    tenant's status."""
    ensure(api, limit)
    page.goto(f"{live.url}/#/limit/{limit['slug']}")
    status = api.get(f"/v1/limits/{limit['slug']}/status").json()
    usage = shown_usage(page)
    assert usage[-1] == Decimal(str(status["usage"]))
    assert usage == sorted(usage)  # usage so far never falls within a period
    expect(page.locator("#subjects-table tbody tr")).to_have_count(1)
    assert table_rows(page, "#subjects-table")[0][0] == "(tenant)"
    expect(page.get_by_label("Subject")).to_have_count(0)
