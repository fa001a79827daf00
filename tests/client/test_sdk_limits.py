"""Limits through the SDK, blocking and awaited, against the real app (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from usagekit import AsyncClient, Client
from usagekit.errors import NotFoundError, ValidationError

AT = datetime(2026, 10, 15, 12, tzinfo=UTC)
BIG = 2**63 - 1


def usage_events() -> list[dict[str, object]]:
    """alice: BIG - 0.5 in October (past a float's 53 bits), 7 in September; bob: 1."""
    rows = [("alice", BIG // 2, AT), ("alice", BIG // 2, AT), ("alice", "0.5", AT),
            ("alice", 7, AT - timedelta(days=30)), ("bob", 1, AT)]  # fmt: skip
    return [
        {"id": f"e{i}", "type": "job", "subject": s, "time": t, "data": {"v": v}}
        for i, (s, v, t) in enumerate(rows)
    ]


def test_every_limit_operation(sdk: Client) -> None:
    sdk.create_meter("cpu", "job", "sum", value_property="v")
    sdk.send(usage_events())
    cap = Decimal(BIG) - Decimal("0.25")  # the largest a limit may be, less a quarter
    made = sdk.create_limit("cap", "cpu", "month", cap, thresholds=[50, Decimal("99.5"), 100])
    assert (made.limit, made.thresholds, made.scope) == (cap, [50, 99.5, 100], "subject")
    sdk.create_limit("all", "cpu", "day", 3, scope="tenant", tz="Asia/Kathmandu")
    assert [x.slug for x in sdk.limits()] == ["all", "cap"]
    assert sdk.get_limit("cap") == made

    status = sdk.limit_status("cap", "alice", at=AT)
    assert status.usage == Decimal(BIG) - Decimal("0.5")
    assert status.remaining == Decimal("0.25")
    assert status.has_access and status.thresholds_reached == [50, 99.5]
    assert status.period_start == datetime(2026, 10, 1, tzinfo=UTC)
    assert status.period_end == datetime(2026, 11, 1, tzinfo=UTC)
    every = sdk.subject_limits("bob", at=AT)
    whole = Decimal(BIG) + Decimal("0.5")  # everyone's usage that day, past 64 bits
    assert [(s.slug, s.subject, s.usage) for s in every] == [
        ("cap", "bob", 1),
        ("all", None, whole),
    ]

    changed = sdk.update_limit("cap", limit=1, description="one")
    assert (changed.limit, changed.description) == (1, "one")
    assert sdk.update_limit("cap", clear_description=True).description is None
    assert not sdk.limit_status("cap", "alice", at=AT).has_access
    with pytest.raises(ValidationError) as bad:
        sdk.limit_status("cap")
    assert bad.value.param == "subject"
    sdk.delete_limit("cap")
    with pytest.raises(NotFoundError):
        sdk.get_limit("cap")


@pytest.mark.anyio
async def test_limits_awaited(async_sdk: AsyncClient) -> None:
    c = async_sdk
    await c.create_meter("cpu", "job", "sum", value_property="v")
    await c.send(usage_events())
    await c.create_limit("cap", "cpu", "rolling_7d", 10)
    assert [x.slug for x in await c.limits()] == ["cap"]
    assert (await c.get_limit("cap")).period == "rolling_7d"
    status = await c.limit_status("cap", "bob", at=AT)
    assert (status.usage, status.remaining, status.percent) == (1, 9, 10)
    assert [s.slug for s in await c.subject_limits("bob", at=AT)] == ["cap"]
    assert (await c.update_limit("cap", period="day")).period == "day"
    await c.delete_limit("cap")
    assert await c.limits() == []
