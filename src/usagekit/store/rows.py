"""The rows an ingest body becomes: what crosses to the writer, and what dedup compares."""

from __future__ import annotations

from typing import NamedTuple

from usagekit.core.events import Event


class Content(NamedTuple):
    """What dedup compares: a repeat of a stored key is a duplicate if this is equal."""

    type: str
    subject: str
    time_ms: int
    data: str  # canonical JSON


class EventRow(NamedTuple):
    """One incoming event as the writer gets it, encoded by the server process."""

    position: int  # index of the record in the request body
    id: str
    source: str
    type: str
    subject: str
    time_ms: int
    data: str  # canonical JSON

    @property
    def content(self) -> Content:
        return Content(self.type, self.subject, self.time_ms, self.data)


class Repeat(NamedTuple):
    """A later occurrence of a key within one request."""

    row: EventRow
    first: int  # position in the batch's rows of the key's first occurrence


_new = tuple.__new__


def event_row(index: int, ev: Event) -> EventRow:
    # tuple.__new__ skips the NamedTuple's Python-level __new__: half the cost, once per event.
    return _new(EventRow, (index, ev.id, ev.source, ev.type, ev.subject, ev.time_ms, ev.data_json))
