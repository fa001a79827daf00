"""Events to request bodies: serialised once, cut into chunks under the server's body limit."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

from usagekit.client.models import Event, Rejection, SendResult

DEFAULT_MAX_BYTES = 768 * 1024  # well under the server's default limit of 1 MiB
_OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact: the server reads numeric strings as decimals
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode(event: Event | Mapping[str, Any]) -> bytes:
    """One event as JSON (datetimes as RFC 3339, naive ones taken as UTC)."""
    record = event.as_record() if isinstance(event, Event) else event
    return orjson.dumps(record, default=_default, option=_OPTIONS)


@dataclass(slots=True)
class Budget:
    """How big a body may be; lowered during a send if the server answers 413."""

    max_bytes: int = DEFAULT_MAX_BYTES


@dataclass(slots=True)
class Chunk:
    """One request body's records: encoded, and as the caller gave them, with their indexes."""

    indexes: list[int]  # the caller's index of each record, in body order
    records: list[Any]
    parts: list[bytes]  # each record's JSON
    consumed: int = 0  # input records behind this chunk, those refused before sending included

    @property
    def body(self) -> bytes:
        return b"[" + b",".join(self.parts) + b"]"

    def halves(self) -> tuple[Chunk, Chunk]:
        mid = len(self.parts) // 2
        return (
            Chunk(self.indexes[:mid], self.records[:mid], self.parts[:mid]),
            Chunk(self.indexes[mid:], self.records[mid:], self.parts[mid:]),
        )


def chunks(
    events: Iterable[Event | Mapping[str, Any]], result: SendResult, budget: Budget
) -> Iterator[Chunk]:
    """Cut events into JSON-array bodies within the budget, lazily (any length works).

    A record that cannot be serialised, or is larger than a body on its own, is
    reported in `result.rejected` under its index and never sent. When such records
    come last, a final chunk without records accounts for them.
    """
    current = Chunk([], [], [])
    size = 2  # the brackets
    for index, event in enumerate(events):
        current.consumed += 1
        try:
            encoded = encode(event)
        except (TypeError, orjson.JSONEncodeError) as exc:
            result.rejected.append(Rejection(index, _id_of(event), f"not JSON: {exc}", event))
            continue
        if len(encoded) + 2 > budget.max_bytes:
            error = f"record is {len(encoded):,} bytes, over the body limit of {budget.max_bytes:,}"
            result.rejected.append(Rejection(index, _id_of(event), error, event))
            continue
        if current.parts and size + len(encoded) + 1 > budget.max_bytes:
            current.consumed -= 1
            yield current
            current, size = Chunk([], [], [], consumed=1), 2
        current.parts.append(encoded)
        current.records.append(event)
        current.indexes.append(index)
        size += len(encoded) + 1
    if current.consumed:
        yield current


def _id_of(event: Any) -> str | int | None:
    if isinstance(event, Event):
        return event.id
    rid = event.get("id") if isinstance(event, Mapping) else None
    return rid if isinstance(rid, str | int) else None
