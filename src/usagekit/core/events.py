"""Usage events: the raw record, and how one incoming record is judged on its own."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from usagekit.core.clock import MAX_TIME_MS
from usagekit.core.jsondata import BAD_TEXT, DataError, canonical, printable

MAX_ID_LEN = 256
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
# CloudEvents attributes we accept and do not keep.
_IGNORED = frozenset({"specversion", "datacontenttype", "dataschema"})
_KNOWN = frozenset({"id", "source", "type", "subject", "time", "data"}) | _IGNORED


@dataclass(slots=True)
class Event:
    """One usage record after validation; `data_json` is canonical (sorted keys)."""

    id: str
    source: str
    type: str
    subject: str
    time_ms: int
    data: dict[str, Any]
    data_json: str

    def as_record(self) -> dict[str, Any]:
        """The record as a client would send it."""
        return {
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": format_time(self.time_ms),
            "data": self.data,
        }


CONFLICT = "id already stored with different content; the original is kept"


class InvalidRecord(ValueError):
    """A record that cannot be stored; the message names the field and the fix."""


def parse_time(value: object, field: str = "time") -> int:
    """RFC 3339 string or integer Unix milliseconds -> Unix milliseconds."""
    if isinstance(value, bool):
        raise InvalidRecord(f"{field}: expected RFC 3339 string or Unix ms integer, got a boolean")
    if isinstance(value, int):
        ms = value
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidRecord(
                f"{field}: {value[:40]!r} is not RFC 3339 (e.g. 2026-11-02T10:15:00Z) or Unix ms"
            ) from None
        if dt.tzinfo is None:
            raise InvalidRecord(f"{field}: {value[:40]!r} has no UTC offset; add Z or +hh:mm")
        ms = _datetime_ms(dt)
    else:
        raise InvalidRecord(
            f"{field}: expected RFC 3339 string or Unix ms integer, got {_kind(value)}"
        )
    if not 0 <= ms <= MAX_TIME_MS:
        raise InvalidRecord(f"{field}: {value!r} is out of range (1970 to 9999)")
    return ms


def _datetime_ms(dt: datetime) -> int:
    # Integer arithmetic: timestamp() rounds through a float.
    return (dt - EPOCH) // _MS


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _text(value: object, field: str) -> str:
    if type(value) is str and 0 < len(value) <= MAX_ID_LEN:
        if BAD_TEXT.search(value):
            raise InvalidRecord(f"{field}: holds a NUL character or a lone surrogate")
        return value
    if value is None:
        raise InvalidRecord(f"{field}: required")
    if isinstance(value, int) and not isinstance(value, bool):
        return _text(str(value), field)
    if not isinstance(value, str):
        raise InvalidRecord(f"{field}: expected a string, got {_kind(value)}")
    if not value:
        raise InvalidRecord(f"{field}: must not be empty")
    raise InvalidRecord(f"{field}: longer than {MAX_ID_LEN} characters")


def parse_record(record: object) -> Event:
    """Validate one incoming record; raise InvalidRecord naming the first problem."""
    if type(record) is not dict:
        raise InvalidRecord(f"record: expected an object, got {_kind(record)}")
    if not record.keys() <= _KNOWN:
        names = printable(", ".join(sorted(map(str, record.keys() - _KNOWN))[:5]))
        raise InvalidRecord(f"unknown field(s) {names}: put custom fields inside data")
    event_id = _text(record.get("id"), "id")
    event_type = _text(record.get("type"), "type")
    subject = _text(record.get("subject"), "subject")
    source = _text(record.get("source", "default"), "source")
    raw_time = record.get("time")
    if type(raw_time) is int and 0 <= raw_time <= MAX_TIME_MS:
        time_ms = raw_time
    elif raw_time is None:
        raise InvalidRecord("time: required")
    else:
        time_ms = parse_time(raw_time)
    data = record.get("data")
    if data is None:
        data = {}
    elif type(data) is not dict:
        raise InvalidRecord(f"data: expected an object, got {_kind(data)}")
    try:
        data_json = canonical(data)
    except DataError as exc:
        raise InvalidRecord(str(exc)) from None
    return Event(event_id, source, event_type, subject, time_ms, data, data_json)


def format_time(ms: int) -> str:
    """Unix ms as RFC 3339 UTC, with milliseconds only when there are some.

    Hot in exports, so it formats by arithmetic with a cached date-and-minute part.
    """
    seconds, millis = divmod(ms, 1000)
    minute, secs = divmod(seconds, 60)
    if millis:
        return f"{_minute_prefix(minute)}{secs:02d}.{millis:03d}Z"
    return f"{_minute_prefix(minute)}{secs:02d}Z"


_SECONDS = [f"{s:02d}" for s in range(60)]
_MILLIS = ["", *(f".{m:03d}" for m in range(1, 1000))]


def format_times(times: Sequence[int]) -> list[str]:
    """format_time of many instants; cheaper per item when neighbours share a minute (exports)."""
    out = []
    last_minute, prefix = -1, ""
    seconds, millis = _SECONDS, _MILLIS
    for ms in times:
        minute, rest = divmod(ms, 60_000)
        if minute != last_minute:
            last_minute, prefix = minute, _minute_prefix(minute)
        sec, milli = divmod(rest, 1000)
        out.append(f"{prefix}{seconds[sec]}{millis[milli]}Z")
    return out


@functools.lru_cache(maxsize=4096)
def _minute_prefix(minute: int) -> str:
    day, rest = divmod(minute, 1440)
    return f"{_date_prefix(day)}{rest // 60:02d}:{rest % 60:02d}:"


@functools.lru_cache(maxsize=4096)
def _date_prefix(day: int) -> str:
    return datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%dT")
