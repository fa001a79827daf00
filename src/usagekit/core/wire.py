"""The fast path for ingest bodies: a whole JSON array of valid records, decoded in C.

msgspec decodes and checks every record of a body in one call. When anything in
the body is not plainly valid it gives up (None), and the body takes the
record-by-record path (core.events.parse_record), which names each problem; so
this path never decides what is valid, it only skips work for bodies that are.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import orjson

from usagekit.core.clock import MAX_TIME_MS
from usagekit.core.events import MAX_ID_LEN, Event, InvalidRecord, parse_time
from usagekit.core.jsondata import MAX_DEPTH

_Text = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID_LEN)]
_Int = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
_Millis = Annotated[int, msgspec.Meta(ge=0, le=MAX_TIME_MS)]


class _Record(msgspec.Struct, forbid_unknown_fields=True):
    id: _Text | _Int
    type: _Text | _Int
    subject: _Text | _Int
    time: _Millis | str
    source: _Text | _Int = "default"
    data: dict[str, Any] | None = None
    # CloudEvents attributes accepted and not kept (core.events._IGNORED).
    specversion: Any = None
    datacontenttype: Any = None
    dataschema: Any = None


class _Envelope(msgspec.Struct, forbid_unknown_fields=True):
    events: list[_Record]


_SHALLOW = 2 * MAX_DEPTH  # shorter JSON text cannot nest deeper than MAX_DEPTH
_ARRAY = msgspec.json.Decoder(list[_Record])
_ENVELOPE = msgspec.json.Decoder(_Envelope)


def decode_events(body: bytes) -> list[Event] | None:
    """Every record of a JSON array (or {"events": [...]}) body, or None to take the slow path."""
    head = body.lstrip()[:1]
    if b"\\u0000" in body:
        return None  # NUL is refused per record, with its field named: the slow path does that
    try:
        if head == b"[":
            records = _ARRAY.decode(body)
        elif head == b"{":
            records = _ENVELOPE.decode(body).events
        else:
            return None
        return [_event(r) for r in records]
    except (
        msgspec.ValidationError,
        msgspec.DecodeError,
        InvalidRecord,
        orjson.JSONEncodeError,  # an integer past 64 bits, or deep nesting, in data
        RecursionError,
    ):
        return None


def _event(r: _Record) -> Event:
    t = r.time if type(r.time) is int else parse_time(r.time)
    data = {} if r.data is None else r.data
    # core.jsondata.canonical, inlined on this hot path; the body holds no NUL (see above).
    data_json = orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()
    if len(data_json) > _SHALLOW and data_json.count("{") + data_json.count("[") > MAX_DEPTH:
        raise InvalidRecord("data may be nested too deep")  # the slow path decides
    return Event(
        r.id if type(r.id) is str else str(r.id),
        r.source if type(r.source) is str else str(r.source),
        r.type if type(r.type) is str else str(r.type),
        r.subject if type(r.subject) is str else str(r.subject),
        t,
        data,
        data_json,
    )
