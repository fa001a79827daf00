"""Exact decimal values and per-record validation."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from usagekit.core.events import (
    InvalidRecord,
    format_time,
    format_times,
    parse_record,
    parse_time,
)
from usagekit.core.numbers import NotANumber, join, split, to_nanos, to_number


@given(
    st.lists(
        st.decimals(min_value=-(10**6), max_value=10**6, places=4, allow_nan=False), max_size=50
    )
)
def test_sums_of_decimals_are_exact(values: list[Decimal]) -> None:
    total = 0
    parts = [split(to_nanos(float(v))) for v in values]
    total = join(sum(u for u, _ in parts), sum(n for _, n in parts))
    assert Decimal(str(to_number(total))) == sum(values, Decimal(0))


def test_a_tenth_ten_times_is_one() -> None:
    assert to_number(sum(to_nanos(0.1) for _ in range(10))) == 1


@pytest.mark.parametrize("bad", [True, "abc", float("nan"), [1], {"a": 1}, 10**30])
def test_non_numbers_are_refused(bad: object) -> None:
    with pytest.raises(NotANumber):
        to_nanos(bad)


def test_times_parse_to_the_same_instant() -> None:
    assert (
        parse_time("2026-11-02T10:15:00Z")
        == parse_time("2026-11-02T15:45:00+05:30")
        == 1793614500000
    )
    assert format_time(1793614500123) == "2026-11-02T10:15:00.123Z"
    for bad in ("2026-11-02T10:15:00", "tomorrow", 2**60, -1, 1.5):
        with pytest.raises(InvalidRecord):
            parse_time(bad)


@given(st.integers(min_value=0, max_value=253402300799999))
def test_formatted_times_agree_with_datetime(ms: int) -> None:
    expected = datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    expected += f".{ms % 1000:03d}Z" if ms % 1000 else "Z"
    assert format_time(ms) == expected
    assert parse_time(format_time(ms)) == ms


@given(st.lists(st.integers(min_value=0, max_value=253402300799999), max_size=50), st.data())
def test_batch_formatting_agrees_with_format_time(starts: list[int], data: st.DataObject) -> None:
    # Neighbours in the same minute and second, as in a time-ordered export.
    near = [t + data.draw(st.integers(0, 120_000)) for t in starts]
    times = sorted(starts + [min(t, 253402300799999) for t in near])
    assert format_times(times) == [format_time(t) for t in times]


def test_record_errors_name_the_field() -> None:
    good = {"id": "1", "type": "t", "subject": "s", "time": 0}
    assert parse_record(good).source == "default"
    assert parse_record({**good, "specversion": "1.0", "id": 7}).id == "7"
    cases = {
        "id": {**good, "id": None},
        "type": {**good, "type": ""},
        "data": {**good, "data": 3},
        "unknown": {**good, "colour": "red"},
        "record": [good],
    }
    for field, record in cases.items():
        with pytest.raises(InvalidRecord, match=field):
            parse_record(record)
