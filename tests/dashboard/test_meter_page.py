"""Meter page: chart, table and CSV equal the API's answer for the same parameters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import Page

from tests.dashboard.browser import shown_query, table_rows
from tests.live import Live


def cell(value: Any) -> str:
    return "" if value is None else str(value)


def expected_table(answer: dict[str, Any], group: str | None) -> list[list[str]]:
    names = [group] if group else []
    return [
        [r["start"], r["end"], *(cell(r["group"][n]) for n in names), cell(r["value"])]
        for r in answer["data"]
    ]


def expected_series(answer: dict[str, Any], group: str | None) -> list[dict[str, Any]]:
    """The API's rows as one value list per group, in first-seen order (the chart's data)."""
    starts: list[str] = []
    by_group: dict[str, dict[str, Any]] = {}
    for r in answer["data"]:
        if r["start"] not in starts:
            starts.append(r["start"])
        label = (
            (r["group"][group] if r["group"][group] is not None else "(none)") if group else "value"
        )
        by_group.setdefault(label, {})[r["start"]] = r["value"]
    return [{"label": k, "values": [v.get(s) for s in starts]} for k, v in by_group.items()]


def local_days(tz: str, back: int, ahead: int = 1) -> tuple[datetime, datetime]:
    """Local midnight `back` days before today and `ahead` days after, in tz."""
    zone = ZoneInfo(tz)
    today = datetime.now(zone).date()
    start = datetime.combine(today - timedelta(days=back), datetime.min.time(), zone)
    end = datetime.combine(today + timedelta(days=ahead), datetime.min.time(), zone)
    return start, end


def check_shown(page: Page, api: httpx.Client, slug: str, group: str | None) -> dict[str, Any]:
    query = shown_query(page)
    answer = api.get(f"/v1/meters/{slug}/query?{query}").json()
    assert answer["data"], "the seeded range has usage"
    assert table_rows(page, "#series-table") == expected_table(answer, group)
    series = json.loads(page.get_attribute("#chart", "data-series") or "[]")
    assert series == expected_series(answer, group)
    assert page.locator("#chart canvas").count() >= 1
    return {k: v[0] if len(v) == 1 else v for k, v in parse_qs(query).items()}


def test_range_group_by_and_zone_change_what_is_asked_and_shown(
    page: Page, live: Live, api: httpx.Client
) -> None:
    page.get_by_role("link", name="cpu_time").click()
    params = check_shown(page, api, "cpu_time", None)
    start, end = local_days("UTC", 29)
    assert (params["from"], params["to"]) == (
        start.isoformat()[:19] + "Z",
        end.isoformat()[:19] + "Z",
    )

    page.get_by_label("Range").select_option("7d")
    page.get_by_label("Group by").select_option("project")
    params = check_shown(page, api, "cpu_time", "project")
    assert params["group_by"] == "project" and params["granularity"] == "day"
    start, end = local_days("UTC", 6)
    assert datetime.fromisoformat(params["from"]) == start
    assert datetime.fromisoformat(params["to"]) == end

    page.get_by_label("Time zone").fill("Asia/Kolkata")
    page.get_by_label("Aggregation").select_option("rolling_7d")
    params = check_shown(page, api, "cpu_time", "project")
    start, end = local_days("Asia/Kolkata", 6)
    assert datetime.fromisoformat(params["from"]) == start
    assert params["from"].endswith("+05:30") and params["aggregation_type"] == "rolling_7d"

    page.get_by_label("Range").select_option("24h")
    page.get_by_label("Granularity").select_option("hour")
    page.get_by_label("Group by").select_option("region")
    params = check_shown(page, api, "cpu_time", "region")
    hours = datetime.fromisoformat(params["to"]) - datetime.fromisoformat(params["from"])
    assert hours == timedelta(hours=24)
    assert datetime.fromisoformat(params["to"]) > datetime.now(UTC)


def test_filters_and_custom_dates(page: Page, api: httpx.Client) -> None:
    page.goto(page.url.split("#")[0] + "#/meter/jobs")
    page.get_by_label("Range").select_option("custom")
    start, end = local_days("UTC", 10, ahead=-3)
    page.get_by_label("From (local date)").fill(start.date().isoformat())
    page.get_by_label("To (inclusive)").fill((end.date() - timedelta(days=1)).isoformat())
    page.get_by_label("project").fill("apollo, mercury")
    page.get_by_label("Group by").select_option("project")
    params = check_shown(page, api, "jobs", "project")
    assert params["filter[project]"] == ["apollo", "mercury"]
    assert datetime.fromisoformat(params["from"]) == start
    assert datetime.fromisoformat(params["to"]) == end
    groups = {row[2] for row in table_rows(page, "#series-table")}
    assert groups == {"apollo", "mercury"}


def test_csv_download_is_the_api_csv_of_what_is_shown(page: Page, api: httpx.Client) -> None:
    page.goto(page.url.split("#")[0] + "#/meter/cpu_time?range=7d&group=project&tz=Europe/Berlin")
    query = shown_query(page)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename == "cpu_time.csv"
    got = Path(download.path()).read_bytes()
    want = api.get(f"/v1/meters/cpu_time/query?{query}", headers={"Accept": "text/csv"})
    assert got == want.content
    lines = got.decode().splitlines()
    assert lines[0] == "start,end,project,value"
    assert [line.split(",") for line in lines[1:]] == table_rows(page, "#series-table")


def test_last_24_hours_from_the_menu_is_hourly_like_the_link(
    page: Page, live: Live, api: httpx.Client
) -> None:
    page.goto(live.url + "/#/meter/cpu_time?range=30d")
    assert parse_qs(shown_query(page))["granularity"] == ["day"]
    page.get_by_label("Range").select_option("24h")
    picked = shown_query(page)
    params = parse_qs(picked)
    assert params["granularity"] == ["hour"]
    assert page.get_by_label("Granularity").input_value() == "hour"
    start, end = (datetime.fromisoformat(params[k][0]) for k in ("from", "to"))
    now = datetime.now(UTC)
    assert end - start == timedelta(hours=24) and end - timedelta(hours=1) <= now < end
    answer = api.get(f"/v1/meters/cpu_time/query?{picked}").json()
    series = json.loads(page.get_attribute("#chart", "data-series") or "[]")
    assert len(series[0]["values"]) in (24, 25)
    assert series == expected_series(answer, None)
    assert [r[0] for r in table_rows(page, "#series-table")] == [r["start"] for r in answer["data"]]

    page.goto(live.url + "/#/meter/cpu_time?range=24h")
    assert parse_qs(shown_query(page))["granularity"] == ["hour"]
    page.get_by_label("Range").select_option("7d")
    assert parse_qs(shown_query(page))["granularity"] == ["day"]
    page.get_by_label("Granularity").select_option("week")
    page.get_by_label("Range").select_option("30d")
    assert parse_qs(shown_query(page))["granularity"] == ["week"]  # a chosen one stays
