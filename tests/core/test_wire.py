"""The ingest fast path decides nothing: it gives the slow path's events, or gives up."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from usagekit.core.events import MAX_ID_LEN, InvalidRecord, parse_record
from usagekit.core.wire import decode_events
from usagekit.services.ingest import judge, parse_body

_texts = st.one_of(
    st.text(min_size=1, max_size=8),
    st.sampled_from(["", "x" * MAX_ID_LEN, "x" * (MAX_ID_LEN + 1)]),
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
)
_times = st.one_of(
    st.integers(-5, 253402300799999 + 5),
    st.sampled_from(
        [
            "2026-11-02T10:15:00Z",
            "2026-11-02T10:15:00+05:45",
            "2026-11-02T10:15:00",
            "yesterday",
            "",
        ]
    ),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none(),
)
_data = st.one_of(
    st.none(),
    st.dictionaries(st.text(max_size=4), st.one_of(st.integers(), st.text(max_size=4)), max_size=3),
    st.lists(st.integers(), max_size=2),
    st.text(max_size=3),
)
_FIELDS = {
    "id": _texts,
    "type": _texts,
    "subject": _texts,
    "source": _texts,
    "time": _times,
    "data": _data,
    "specversion": st.just("1.0"),
    "extra": st.integers(),
}


@st.composite
def records(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 20)) == 0:
        return draw(st.one_of(st.integers(), st.text(max_size=3), st.lists(st.integers())))
    record = {"id": "e1", "type": "job", "subject": "alice", "time": 1_700_000_000_000}
    for name in draw(st.lists(st.sampled_from(sorted(_FIELDS)), unique=True, max_size=4)):
        record[name] = draw(_FIELDS[name])
    for name in draw(st.lists(st.sampled_from(["id", "type", "subject", "time"]), max_size=1)):
        del record[name]
    return record


@settings(max_examples=300, deadline=None)
@given(st.lists(records(), max_size=6), st.booleans())
def test_fast_path_equals_the_slow_path_or_gives_up(batch: list[Any], envelope: bool) -> None:
    body = json.dumps({"events": batch} if envelope else batch).encode()  # big ints too
    fast = decode_events(body)
    records_, broken = parse_body(body, "application/json")
    good, rejected, _ = judge(records_, broken)
    if fast is None:
        return
    assert rejected == []
    assert [ev for _, ev in good] == fast


def test_a_body_of_valid_records_takes_the_fast_path() -> None:
    batch = [
        {
            "id": 7,
            "type": "job",
            "subject": "bob",
            "time": "2026-11-02T10:15:00+05:30",
            "data": {"b": 1, "a": {"z": 2.5}},
        },
        {"id": "e2", "source": "s", "type": "job", "subject": "bob", "time": 1, "specversion": "1"},
    ]
    fast = decode_events(orjson.dumps(batch))
    assert fast == [parse_record(r) for r in batch]
    assert fast is not None and fast[0].data_json == '{"a":{"z":2.5},"b":1}'


def test_any_invalid_record_sends_the_body_to_the_slow_path() -> None:
    good = {"id": "e1", "type": "job", "subject": "bob", "time": 1}
    for bad in (
        {**good, "time": "yesterday"},
        {**good, "subject": ""},
        {**good, "x": 1},
        {**good, "data": [1]},
        {**good, "id": True},
    ):
        try:
            parse_record(bad)
        except InvalidRecord:
            pass
        else:
            raise AssertionError(f"{bad} should be invalid")
        assert decode_events(orjson.dumps([good, bad])) is None
    assert decode_events(b'{"id": "e1"}') is None  # one object: the slow path reads it
    assert decode_events(b"[1, 2") is None
