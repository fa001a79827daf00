"""Every form of time the CLI takes works in the SDK too, and means the same instant.

Each form is checked by the answer it gets: the same query made with explicit
RFC 3339 bounds (with offsets) must give the same points.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from usagekit import AsyncClient, Client
from usagekit.client.base import Instant, instant

KOLKATA = ZoneInfo("Asia/Kolkata")
# Hourly jobs from 2026-10-30 to 2026-11-04 UTC: every bound below cuts between two of them.
FIRST = datetime(2026, 10, 30, tzinfo=UTC)
EVENTS = [
    {
        "id": f"t-{i}",
        "source": "slurm",
        "type": "job",
        "subject": "alice",
        "time": FIRST + timedelta(hours=i, minutes=7),
        "data": {"cpu_ms": i + 1},
    }
    for i in range(24 * 5)
]
# (start, end) forms, and the RFC 3339 bounds each pair means in the query's tz (Asia/Kolkata).
KOLKATA_NOV_1 = "2026-11-01T00:00:00+05:30"
KOLKATA_NOV_3 = "2026-11-03T00:00:00+05:30"
FORMS: dict[str, tuple[Instant, Instant, str, str]] = {
    "date string": ("2026-11-01", "2026-11-03", KOLKATA_NOV_1, KOLKATA_NOV_3),
    "date": (date(2026, 11, 1), date(2026, 11, 3), KOLKATA_NOV_1, KOLKATA_NOV_3),
    "aware datetime": (
        datetime(2026, 11, 1, 6, tzinfo=UTC),
        datetime(2026, 11, 2, 9, 30, tzinfo=KOLKATA),
        "2026-11-01T06:00:00Z",
        "2026-11-02T04:00:00Z",
    ),
    "ISO string with offset": (
        "2026-11-01T06:00:00+01:00",
        "2026-11-02T12:00:00Z",
        "2026-11-01T05:00:00Z",
        "2026-11-02T12:00:00Z",
    ),
    "Unix ms int": (
        int(datetime(2026, 11, 1, 4, tzinfo=UTC).timestamp() * 1000),
        int(datetime(2026, 11, 2, 22, tzinfo=UTC).timestamp() * 1000),
        "2026-11-01T04:00:00Z",
        "2026-11-02T22:00:00Z",
    ),
    "Unix ms string": (
        "1793502000000",
        "1793653200000",
        "2026-11-01T03:00:00Z",
        "2026-11-02T21:00:00Z",
    ),
    # Without an offset a date-time is wall-clock time in the query's tz, like a date.
    "naive datetime": (
        datetime(2026, 11, 1, 8),
        datetime(2026, 11, 2, 20),
        "2026-11-01T08:00:00+05:30",
        "2026-11-02T20:00:00+05:30",
    ),
    "ISO string without offset": (
        "2026-11-01T08:00",
        "2026-11-02T20:00:00",
        "2026-11-01T08:00:00+05:30",
        "2026-11-02T20:00:00+05:30",
    ),
}


def points(result: Any) -> list[tuple[datetime, object]]:
    return [(p.start, p.value) for p in result]


@pytest.fixture
def loaded(sdk: Client) -> Client:
    sdk.create_meter("cpu", "job", "sum", value_property="cpu_ms")
    assert sdk.send(EVENTS).accepted == len(EVENTS)
    return sdk


@pytest.mark.parametrize("form", FORMS)
def test_query_takes_every_form_the_cli_takes(loaded: Client, form: str) -> None:
    start, end, rfc_start, rfc_end = FORMS[form]
    kw: dict[str, Any] = {"granularity": "hour", "tz": "Asia/Kolkata"}
    expected = points(loaded.query("cpu", rfc_start, rfc_end, **kw))
    assert expected, "the bounds cover some events"
    assert points(loaded.query("cpu", start, end, **kw)) == expected


@pytest.mark.parametrize("form", ["date string", "date", "ISO string without offset"])
def test_totals_and_listings_read_bounds_without_offset_as_utc(loaded: Client, form: str) -> None:
    """summary, events and export have no tz: a bound without an offset is UTC there."""
    start, end, _, _ = FORMS[form]
    utc = [instant(v, "UTC") for v in (start, end)]
    assert all(t is not None and t.endswith("+00:00") for t in utc)
    assert loaded.summary(start, end).total("cpu") == loaded.summary(*utc).total("cpu")
    assert [e.id for e in loaded.events(start, end)] == [e.id for e in loaded.events(*utc)]


def test_readme_snippet_with_date_strings(loaded: Client) -> None:
    """README's Python: c.query(..., start="2026-11-01", end="2026-12-01") (it raised before)."""
    q = loaded.query("cpu", start="2026-11-01", end="2026-12-01")
    assert sum(p.value or 0 for p in q) == sum(
        e["data"]["cpu_ms"] for e in EVENTS if e["time"] >= datetime(2026, 11, 1, tzinfo=UTC)
    )


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("form", FORMS)
async def test_async_query_takes_every_form(async_sdk: AsyncClient, form: str) -> None:
    await async_sdk.create_meter("cpu", "job", "sum", value_property="cpu_ms")
    assert (await async_sdk.send(EVENTS)).accepted == len(EVENTS)
    start, end, rfc_start, rfc_end = FORMS[form]
    kw: dict[str, Any] = {"granularity": "hour", "tz": "Asia/Kolkata"}
    expected = points(await async_sdk.query("cpu", rfc_start, rfc_end, **kw))
    assert expected
    assert points(await async_sdk.query("cpu", start, end, **kw)) == expected


def test_bad_times_are_named_by_the_server(loaded: Client) -> None:
    from usagekit.errors import ValidationError

    with pytest.raises(ValidationError) as caught:
        loaded.query("cpu", "2026-13-01", "2026-11-03")
    assert caught.value.param == "from"
    with pytest.raises(TypeError):
        instant(True)
