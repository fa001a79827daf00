"""Client.limit_subjects, blocking and awaited, against the real app."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from usagekit import AsyncClient, Client
from usagekit.client import LimitSubject
from usagekit.errors import ValidationError

AT = datetime(2026, 10, 15, 12, tzinfo=UTC)
BIG = 2**63 - 1


def usage_events() -> list[dict[str, object]]:
    rows = [("alice", BIG, AT), ("alice", "0.5", AT), ("bob", 3, AT), ("carol", 1, AT)]
    return [
        {"id": f"e{i}", "type": "job", "subject": s, "time": t, "data": {"v": v}}
        for i, (s, v, t) in enumerate(rows)
    ]


def test_limit_subjects(sdk: Client) -> None:
    sdk.create_meter("cpu", "job", "sum", value_property="v")
    sdk.send(usage_events())
    sdk.create_limit("cap", "cpu", "month", 4)
    found = sdk.limit_subjects("cap", at=AT, limit=2)
    assert (found.period_start, found.period_end, found.limit) == (
        datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC), 4)  # fmt: skip
    assert found.data == [
        LimitSubject("alice", Decimal(BIG) + Decimal("0.5"), 0, False, found.data[0].percent),
        LimitSubject("bob", 3, 1, True, 75),
    ]
    with pytest.raises(ValidationError) as bad:
        sdk.limit_subjects("cap", limit=0)
    assert bad.value.param == "limit"


@pytest.mark.anyio
async def test_limit_subjects_awaited(async_sdk: AsyncClient) -> None:
    await async_sdk.create_meter("cpu", "job", "sum", value_property="v")
    await async_sdk.send(usage_events())
    await async_sdk.create_limit("all", "cpu", "day", 10, scope="tenant")
    found = await async_sdk.limit_subjects("all", at=AT)
    assert [(r.subject, r.usage) for r in found.data] == [(None, Decimal(BIG) + Decimal("4.5"))]
