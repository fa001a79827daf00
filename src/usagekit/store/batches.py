"""One request's events on their way to the writer, and what became of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from usagekit.core import rollup
from usagekit.core.events import Event
from usagekit.core.meters import Meter
from usagekit.core.records import NewFailure
from usagekit.store.rows import EventRow, Repeat, event_row


@dataclass(slots=True)
class TenantBatch:
    """One request's events and its failures, as plain tuples (cheap to pickle).

    `rows` holds the first occurrence of each (source, id) in the request;
    `repeats` the later ones.
    """

    tenant_id: int
    rows: list[EventRow]
    repeats: list[Repeat] = field(default_factory=list)
    failures: list[NewFailure] = field(default_factory=list)
    channel: str = "events"
    keep_conflicts: bool = True  # store conflicting records as failures
    # The rollups of `rows` should all of them be new, computed where the body was
    # parsed (rows numbered from 1 as seqs), and the ids of the meters they are for.
    deltas: rollup.Deltas | None = None
    meter_ids: tuple[int, ...] = ()
    # At most this many failure rows (rejections first, then conflicts) are kept.
    failure_cap: int | None = None
    failures_dropped: int = 0  # rejections past the cap: counted, not kept

    def __getstate__(self) -> object:
        """Rows as plain tuples, which pickle in C: a batch crosses to the writer with every body.

        (A NamedTuple pickles through a Python-level reduce per row, three times slower.)
        """
        return (self.tenant_id, [tuple(r) for r in self.rows],
                [(tuple(r), at) for r, at in self.repeats], self.failures, self.channel,
                self.keep_conflicts, self.deltas, self.meter_ids, self.failure_cap,
                self.failures_dropped)  # fmt: skip

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        (self.tenant_id, rows, repeats, self.failures, self.channel, self.keep_conflicts,
         self.deltas, self.meter_ids, self.failure_cap, self.failures_dropped) = state  # fmt: skip
        new = tuple.__new__
        self.rows = [new(EventRow, r) for r in rows]
        self.repeats = [Repeat(new(EventRow, r), at) for r, at in repeats]

    @classmethod
    def of(
        cls,
        tenant_id: int,
        items: list[tuple[int, Event]],
        failures: list[NewFailure] | None = None,
        channel: str = "events",
        keep_conflicts: bool = True,
        meters: Sequence[Meter] | None = None,
        failure_cap: int | None = None,
    ) -> TenantBatch:
        """Encode validated events, splitting off in-request repeats of a key.

        With `meters` (the tenant's meters of these event types), the rollup
        deltas are computed here too, so the writer need not compute them.
        With `failure_cap`, failures past it are only counted.
        """
        first: dict[tuple[str, str], int] = {}
        rows: list[EventRow] = []
        firsts: list[tuple[int, Event]] = []
        repeats: list[Repeat] = []
        for index, ev in items:
            key = (ev.source, ev.id)
            at = first.get(key)
            if at is None:
                first[key] = len(rows)
                rows.append(event_row(index, ev))
                firsts.append((len(rows), ev))
            else:
                repeats.append(Repeat(event_row(index, ev), at))
        failures = failures or []
        dropped = 0 if failure_cap is None else max(0, len(failures) - failure_cap)
        batch = cls(tenant_id, rows, repeats, failures[: len(failures) - dropped], channel,
                    keep_conflicts, failure_cap=failure_cap, failures_dropped=dropped)  # fmt: skip
        if meters is not None:
            batch.deltas = rollup.compute(meters, firsts)
            batch.meter_ids = meter_ids_for(meters, {row.type for row in rows})
        return batch


@dataclass(slots=True)
class BatchOutcome:
    accepted: int = 0
    duplicates: int = 0
    conflicts: list[tuple[int, str]] = field(default_factory=list)  # (index, id)
    failures_not_kept: int = 0  # rejected or conflicting records past the batch's failure cap


def meter_ids_for(meters: Sequence[Meter], types: set[str]) -> tuple[int, ...]:
    """Ids of the meters over these event types: what a batch's deltas were computed for."""
    return tuple(sorted(m.id for m in meters if m.event_type in types))
