"""core.params: one parser per kind of request parameter, each out-of-range value a ParamError."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from usagekit.core import params
from usagekit.core.errors import ParamError
from usagekit.core.events import MAX_TIME_MS
from usagekit.core.windows import Granularity


def refused(fn, *args):  # type: ignore[no-untyped-def]
    with pytest.raises(ParamError) as info:
        fn(*args)
    return info.value


@pytest.mark.parametrize(
    "value",
    [
        "²",
        "\u0661\u0662",
        "\uff11\uff12",
        "",
        " ",
        "-",
        "1e3",
        "0x10",
        "1_000",
        "9" * 5000,
        "\x00",
        "12\x00",
    ],
)
def test_instant_refuses_what_is_not_an_instant(value: str) -> None:
    assert refused(params.instant, value, "to").param == "to"


@pytest.mark.parametrize(
    "value",
    [
        str(MAX_TIME_MS + 1),
        "-1",
        str(2**63),
        str(2**64),
        "10000-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "9999-12-31T23:59:59-14:00",
    ],
)
def test_instant_refuses_out_of_range(value: str) -> None:
    err = refused(params.instant, value, "from")
    assert err.param == "from"
    assert "range" in str(err) or "RFC 3339" in str(err)


def test_instant_wants_an_offset() -> None:
    assert "offset" in str(refused(params.instant, "2026-01-01T00:00:00", "to"))


@given(st.integers(min_value=0, max_value=MAX_TIME_MS))
def test_instant_reads_unix_ms_and_rfc3339_alike(ms: int) -> None:
    assert params.instant(str(ms), "to") == ms
    text = datetime.fromtimestamp(ms // 1000, UTC).isoformat().replace("+00:00", "Z")
    assert params.instant(text, "to") == ms - ms % 1000


@given(st.text(max_size=40))
def test_instant_is_total(value: str) -> None:
    """Any text is an instant in range or a ParamError naming the parameter; nothing else."""
    try:
        ms = params.instant(value, "to")
    except ParamError as exc:
        ms, param = 0, exc.param
    else:
        param = "to"
    assert 0 <= ms <= MAX_TIME_MS
    assert param == "to"


@pytest.mark.parametrize("value", ["0", "-1", str(2**63), "²", "1.0", "", "a", "9" * 40])
def test_row_id_refuses(value: str) -> None:
    assert refused(params.row_id, value, "failure_id").param == "failure_id"


@given(st.integers(min_value=1, max_value=params.MAX_ID))
def test_row_id_reads_every_64_bit_id(n: int) -> None:
    assert params.row_id(str(n), "id") == n


def raw_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        raw_cursor(str(2**63)),
        raw_cursor("-1"),
        raw_cursor("²"),
        raw_cursor("1:2"),
        raw_cursor("9" * 5000),
        "!!!",
        "\x00",
        "A" * 500,
        raw_cursor(""),
    ],
)
def test_cursor_refuses(cursor: str) -> None:
    assert refused(params.cursor, cursor, 1).param == "cursor"


@given(st.lists(st.integers(min_value=0, max_value=params.MAX_ID), min_size=1, max_size=3))
def test_cursor_round_trips(parts: list[int]) -> None:
    assert params.cursor(params.encode_cursor(*parts), len(parts)) == tuple(parts)


@given(st.text(max_size=200))
def test_cursor_is_total(value: str) -> None:
    try:
        parts, param = params.cursor(value, 2), "cursor"
    except ParamError as exc:
        parts, param = (), exc.param
    assert all(0 <= p <= params.MAX_ID for p in parts)
    assert param == "cursor"


@pytest.mark.parametrize(
    "name",
    [
        "America",  # a folder of the zone database
        "a" * 300,
        "../../etc/passwd",
        "/etc/localtime",
        "Europe/../Europe/Paris",
        "Nowhere/Special",
        "Europe/Paris\x00",
        "",
        "Europe/Pa ris",
    ],
)
def test_zone_refuses(name: str) -> None:
    assert refused(params.zone, name).param == "tz"


def test_zone_reads_iana_names() -> None:
    assert params.zone("Europe/Paris").key == "Europe/Paris"
    assert params.zone("America/Argentina/Buenos_Aires").key == "America/Argentina/Buenos_Aires"
    assert params.zone("Etc/GMT+5").key == "Etc/GMT+5"


@given(st.text(max_size=80))
def test_zone_is_total(name: str) -> None:
    try:
        found, param = params.zone(name).key, "tz"
    except ParamError as exc:
        found, param = name, exc.param
    assert found == name
    assert param == "tz"


def test_granularity() -> None:
    assert params.granularity("week") is Granularity.WEEK
    for bad in ("Week", "fortnight", "", "day\x00"):
        assert refused(params.granularity, bad).param == "granularity"


@pytest.mark.parametrize("value", ["a\x00b", "\ud800", "x" * 257])
def test_text_refuses(value: str) -> None:
    assert refused(params.text, value, "subject").param == "subject"


def test_text_keeps_awkward_but_storable_text() -> None:
    for value in ("héllo", "😀", "a/b?c=d", "'; DROP TABLE events; --", "x" * 256):
        assert params.text(value, "subject") == value
