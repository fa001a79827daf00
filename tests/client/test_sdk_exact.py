"""The SDK reads totals exactly at any size (orjson would round them to floats)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from usagekit import Client

START = datetime(2026, 10, 1, tzinfo=UTC)
BIG = 2**63 - 1


def test_query_and_summary_totals_are_exact_past_64_bits(sdk: Client) -> None:
    sdk.create_meter("huge", event_type="huge", aggregation="sum", value_property="v")
    values = [str(BIG)] * 20 + [f"{BIG}.5", "0.000000001", "12345678.123456789"]
    sdk.send(
        [
            {
                "id": f"h{i}",
                "type": "huge",
                "subject": f"s{i % 2}",
                "time": START + timedelta(minutes=i),
                "data": {"v": v},
            }
            for i, v in enumerate(values)
        ]
    )
    expected = sum(Fraction(v) for v in values)
    end = START + timedelta(days=1)
    q = sdk.query("huge", start=START, end=end, granularity="day")
    assert [Fraction(p.value) for p in q.data] == [expected]  # type: ignore[arg-type]
    assert isinstance(q.data[0].value, Decimal)
    s = sdk.summary(start=START, end=end, group_by=["subject"])
    assert Fraction(s.total("huge")) == expected  # type: ignore[arg-type]
    halves = {r.group["subject"]: r.value for r in s.data if r.meter == "huge"}
    by_subject = {
        f"s{k}": sum(Fraction(v) for i, v in enumerate(values) if i % 2 == k) for k in range(2)
    }
    assert {k: Fraction(v) for k, v in halves.items()} == by_subject  # type: ignore[arg-type]
