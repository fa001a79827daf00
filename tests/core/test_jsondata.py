"""core.jsondata: what `data` may hold, and splitting a body so each record is judged alone."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from usagekit.core import jsondata
from usagekit.core.events import InvalidRecord, parse_record
from usagekit.core.jsondata import MAX_DEPTH, DataError, canonical, loads_exact, split_records
from usagekit.core.windows import Granularity, buckets, zone


def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def test_depth_limit_is_exact() -> None:
    assert canonical(json.loads(nested(MAX_DEPTH))) == nested(MAX_DEPTH)
    with pytest.raises(DataError, match=f"deeper than {MAX_DEPTH}"):
        canonical(json.loads(nested(MAX_DEPTH + 1)))
    with pytest.raises(DataError, match="deeper"):
        canonical({"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]})


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"v": 2**64}, "data.v: integer"),
        ({"v": -(2**63) - 1}, "data.v: integer"),
        ({"x": [1, {"y": 10**30}]}, "data.x[1].y"),
        ({"s": "a\x00b"}, "data.s: text"),
        ({"a\x00": 1}, "a key"),
        ({"s": "\ud800"}, "data.s: text"),
        ({"f": jsondata.Unrepresentable("1e999")}, "1e999"),
    ],
)
def test_what_cannot_be_kept_is_named(data: dict[str, object], where: str) -> None:
    with pytest.raises(DataError, match=where.replace("[", r"\[").replace("]", r"\]")):
        canonical(data)


def test_64_bit_integers_are_kept_exactly() -> None:
    for n in (2**63 - 1, 2**63, 2**64 - 1, -(2**63)):
        assert orjson.loads(canonical({"v": n}))["v"] == n


def test_parse_record_rejects_nul_in_every_text_field() -> None:
    base = {"id": "a", "type": "t", "subject": "s", "source": "src", "time": 0}
    for field in ("id", "type", "subject", "source"):
        with pytest.raises(InvalidRecord, match=f"^{field}: .*NUL"):
            parse_record({**base, field: "x\x00"})


def test_loads_exact_keeps_huge_integers_and_refuses_nan() -> None:
    assert loads_exact(b'{"v": 18446744073709551617}') == {"v": 2**64 + 1}
    assert orjson.loads(b'{"v": 18446744073709551617}')["v"] != 2**64 + 1  # what it guards
    assert isinstance(loads_exact(b"[1e999]")[0], jsondata.Unrepresentable)
    assert isinstance(loads_exact(b"[" + b"9" * 5000 + b"]")[0], jsondata.Unrepresentable)
    with pytest.raises(ValueError, match="NaN"):
        loads_exact(b"[NaN]")


def test_split_records_finds_each_record_and_its_depth() -> None:
    deep = nested(3000)
    body = f'[{{"id": "a,[]{{}}\\"x"}}, {deep} ,[1,[2]]]'.encode()
    items = split_records(body)
    assert items is not None
    assert [depth for _, depth in items] == [1, 3000, 2]
    assert json.loads(items[0][0]) == {"id": 'a,[]{}"x'}
    envelope = split_records(b'{"events": [{"id": 1}, {"id": 2}]}')
    assert envelope is not None
    assert [json.loads(raw) for raw, _ in envelope] == [{"id": 1}, {"id": 2}]
    assert split_records(b"[]") == []
    assert split_records(b"[1, 2") is None
    assert split_records(b"[1] 2") is None
    assert split_records(b"42") is None


@given(
    st.lists(
        st.dictionaries(
            st.text(max_size=5), st.integers(-(10**20) + 1, 10**20 - 1) | st.text(max_size=5)
        )
    )
)
def test_split_records_agrees_with_a_parser(records: list[dict[str, object]]) -> None:
    body = json.dumps(records).encode()
    items = split_records(body)
    assert items is not None
    assert [loads_exact(raw) for raw, _ in items] == records


@pytest.mark.parametrize(
    ("start", "end", "granularity", "tz"),
    [
        ("9999-12-01T00:00:00Z", "9999-12-31T00:00:00Z", Granularity.MONTH, "UTC"),
        ("9999-12-20T00:00:00Z", "9999-12-31T23:00:00Z", Granularity.WEEK, "UTC"),
        ("9999-12-30T00:00:00Z", "9999-12-31T09:00:00Z", Granularity.DAY, "Pacific/Kiritimati"),
    ],
)
def test_buckets_run_up_to_year_9999(
    start: str, end: str, granularity: Granularity, tz: str
) -> None:
    from usagekit.core.params import instant

    lo, hi = instant(start, "from"), instant(end, "to")
    spans = buckets(lo, hi, granularity, zone(tz))
    assert spans[0][0] == lo
    assert spans[-1][1] == hi
    assert all(a < b for a, b in spans)
