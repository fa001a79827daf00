"""Raw events: the exactly-once write (with rollups and failures), listing, voids and rebuilds."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Select, func, insert, select, tuple_, update

from usagekit.core import rollup
from usagekit.core.events import CONFLICT, Event
from usagekit.core.meters import Meter
from usagekit.core.records import NewFailure, StoredEvent
from usagekit.core.windows import DAY
from usagekit.store.meters import Meters
from usagekit.store.rollups import Rollups
from usagekit.store.schema import events, failures
from usagekit.store.util import chunks, insert_values, now_ms

_INSERT_HEAD = (
    "INSERT INTO events (seq, tenant_id, source, event_id, type, subject, time_ms, data, "
    "received_ms)"
)
_INSERT_TAIL = "ON CONFLICT (tenant_id, source, event_id) DO NOTHING"
PAGE = 5_000


@dataclass(slots=True)
class TenantBatch:
    """One request's accepted records (with the caller's indexes) and its failures."""

    tenant_id: int
    events: list[tuple[int, Event]]
    failures: list[NewFailure] = field(default_factory=list)
    channel: str = "events"
    keep_conflicts: bool = True  # store conflicting records as failures


@dataclass(slots=True)
class BatchOutcome:
    accepted: int = 0
    duplicates: int = 0
    conflicts: list[tuple[int, str]] = field(default_factory=list)  # (index, id)


class Events:
    def __init__(self, engine: Engine, meters: Meters, rollups: Rollups) -> None:
        self.engine = engine
        self.writer = engine.execution_options(immediate=True)
        self.meters = meters
        self.rollups = rollups

    def write(self, batches: Sequence[TenantBatch]) -> list[BatchOutcome]:
        """Store every batch in one transaction: dedup, insert, rollups, failures."""
        try:
            with self.writer.begin() as conn:
                return self._write(conn, batches)
        except BaseException:
            self.rollups.forget_groups()
            raise

    def _write(self, conn: Connection, batches: Sequence[TenantBatch]) -> list[BatchOutcome]:
        seq = int(conn.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one())
        received = now_ms()
        outcomes = []
        fail_rows: list[dict[str, Any]] = []
        for batch in batches:
            outcome = BatchOutcome()
            firsts, repeats = _split_repeats(batch.events)
            rows = []
            for _, ev in firsts:
                seq += 1
                rows.append(
                    (
                        seq,
                        batch.tenant_id,
                        ev.source,
                        ev.id,
                        ev.type,
                        ev.subject,
                        ev.time_ms,
                        ev.data_json,
                        received,
                    )
                )
            stored, skipped = self._insert_new(conn, rows, firsts)
            if stored:
                types = {ev.type for _, ev in stored}
                meters = self.meters.list_in(conn, batch.tenant_id, types)
                self.rollups.apply(conn, rollup.compute(meters, stored))
            outcome.accepted = len(stored)
            kept = self._kept(conn, batch.tenant_id, [ev for _, ev in skipped])
            for index, ev in skipped:
                _judge_repeat(outcome, index, ev, kept[(ev.source, ev.id)])
            for index, ev, first in repeats:
                _judge_repeat(outcome, index, ev, kept.get((ev.source, ev.id), first))
            outcome.conflicts.sort()
            conflicts = outcome.conflicts if batch.keep_conflicts else []
            by_index = dict(batch.events) if conflicts else {}
            fail_rows += [
                _failure_row(
                    batch.tenant_id, received, batch.channel, CONFLICT, by_index[i].as_record()
                )
                for i, _ in conflicts
            ]
            fail_rows += [
                _failure_row(batch.tenant_id, received, f.channel, f.error, f.record)
                for f in batch.failures
            ]
            outcomes.append(outcome)
        if fail_rows:
            conn.execute(insert(failures), fail_rows)
        return outcomes

    def _insert_new(
        self, conn: Connection, rows: list[tuple[Any, ...]], firsts: list[tuple[int, Event]]
    ) -> tuple[list[tuple[int, Event]], list[tuple[int, Event]]]:
        """Insert rows whose key is new, in one statement; (stored, skipped) come back.

        The unique key decides atomically; only when some rows were skipped do we
        look up which, so the common case costs a single executemany.
        """
        if not rows:
            return [], []
        inserted = insert_values(conn, _INSERT_HEAD, rows, _INSERT_TAIL, self.rollups.mark)
        if inserted == len(rows):
            return [(row[0], ev) for row, (_, ev) in zip(rows, firsts, strict=True)], []
        present = set(
            conn.execute(
                select(events.c.seq).where(events.c.seq.between(rows[0][0], rows[-1][0]))
            ).scalars()
        )
        stored, skipped = [], []
        for row, (index, ev) in zip(rows, firsts, strict=True):
            if row[0] in present:
                stored.append((row[0], ev))
            else:
                skipped.append((index, ev))
        return stored, skipped

    def _kept(
        self, conn: Connection, tenant_id: int, evs: list[Event]
    ) -> dict[tuple[str, str], Event]:
        """The stored versions of these events' keys."""
        by_source: dict[str, list[str]] = {}
        for ev in evs:
            by_source.setdefault(ev.source, []).append(ev.id)
        out: dict[tuple[str, str], Event] = {}
        e = events.c
        for source, ids in by_source.items():
            for part in chunks(ids, 500):
                rows = conn.execute(
                    select(e.event_id, e.type, e.subject, e.time_ms, e.data).where(
                        e.tenant_id == tenant_id, e.source == source, e.event_id.in_(part)
                    )
                )
                for eid, typ, subj, t, data in rows:
                    out[(source, eid)] = Event(eid, source, typ, subj, t, {}, data)
        return out

    def page(
        self,
        tenant_id: int,
        *,
        lo: int | None = None,
        hi: int | None = None,
        type_: str | None = None,
        subject: str | None = None,
        after: tuple[int, int] | None = None,
        limit: int = 100,
        newest_first: bool = True,
    ) -> list[StoredEvent]:
        """A page of stored events, ordered by (time, seq); `after` is the last row's key."""
        e = events.c
        query = _filtered(select(events), tenant_id, lo, hi, type_, subject)
        if after is not None:
            key = tuple_(e.time_ms, e.seq)
            query = query.where(key < tuple_(*after) if newest_first else key > tuple_(*after))
        order = (e.time_ms.desc(), e.seq.desc()) if newest_first else (e.time_ms, e.seq)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(*order).limit(limit)).all()
        return [
            StoredEvent(
                r.seq,
                r.event_id,
                r.source,
                r.type,
                r.subject,
                r.time_ms,
                orjson.loads(r.data),
                r.received_ms,
                r.voided_ms,
            )
            for r in rows
        ]

    def export_pages(
        self,
        tenant_id: int,
        lo: int | None,
        hi: int | None,
        type_: str | None,
        subject: str | None = None,
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Rows (event_id, source, type, subject, time_ms, data, voided_ms, seq) by time, paged."""
        e = events.c
        after: tuple[int, int] | None = None
        columns = (e.event_id, e.source, e.type, e.subject, e.time_ms, e.data, e.voided_ms, e.seq)
        while True:
            query = _filtered(select(*columns), tenant_id, lo, hi, type_, subject)
            if after is not None:
                query = query.where(tuple_(e.time_ms, e.seq) > tuple_(*after))
            with self.engine.connect() as conn:
                # The DBAPI cursor's plain tuples: exports fetch millions of rows.
                cursor = conn.execute(query.order_by(e.time_ms, e.seq).limit(PAGE)).cursor
                assert cursor is not None
                rows: list[tuple[Any, ...]] = list(cursor.fetchall())
            if not rows:
                return
            yield rows
            after = (rows[-1][4], rows[-1][7])

    def raw(
        self,
        conn: Connection | None,
        tenant_id: int,
        type_: str,
        lo: int,
        hi: int,
        subjects: Sequence[str] | None = None,
    ) -> Iterator[tuple[int, Event]]:
        """(seq, event) of live events of one type in [lo, hi), in (time, seq) order."""
        e = events.c
        after = (lo - 1, 2**62)
        while True:
            query = select(e.seq, e.event_id, e.source, e.type, e.subject, e.time_ms, e.data).where(
                e.tenant_id == tenant_id,
                e.type == type_,
                e.time_ms < hi,
                tuple_(e.time_ms, e.seq) > tuple_(*after),
                e.voided_ms.is_(None),
            )
            if subjects is not None:
                query = query.where(e.subject.in_(list(subjects)))
            query = query.order_by(e.time_ms, e.seq).limit(PAGE)
            if conn is None:
                with self.engine.connect() as own:
                    rows = own.execute(query).all()
            else:
                rows = conn.execute(query).all()
            for seq, eid, src, typ, subj, t, data in rows:
                yield seq, Event(eid, src, typ, subj, t, orjson.loads(data), data)
            if len(rows) < PAGE:
                return
            after = (rows[-1].time_ms, rows[-1].seq)

    def recompute(self, conn: Connection, meter: Meter, lo: int, hi: int) -> None:
        """Rebuild one meter's rollups for day-aligned [lo, hi) from raw events."""
        self.rollups.clear(conn, meter.id, lo, hi)
        batch: list[tuple[int, Event]] = []
        for item in self.raw(conn, meter.tenant_id, meter.event_type, lo, hi):
            batch.append(item)
            if len(batch) >= PAGE:
                self.rollups.apply(conn, rollup.compute([meter], batch))
                batch = []
        if batch:
            self.rollups.apply(conn, rollup.compute([meter], batch))

    def void(self, tenant_id: int, source: str, ids: Sequence[str]) -> tuple[list[str], list[str]]:
        """Void live events by id; returns (voided ids, ids not found or already voided)."""
        e = events.c
        try:
            with self.writer.begin() as conn:
                found: list[tuple[str, str, int]] = []
                for part in chunks(list(dict.fromkeys(ids)), 500):
                    found += conn.execute(
                        select(e.event_id, e.type, e.time_ms).where(
                            e.tenant_id == tenant_id,
                            e.source == source,
                            e.event_id.in_(part),
                            e.voided_ms.is_(None),
                        )
                    ).all()
                if not found:
                    return [], list(ids)
                stamp = now_ms()
                for part in chunks([f[0] for f in found], 500):
                    conn.execute(
                        update(events)
                        .where(e.tenant_id == tenant_id, e.source == source, e.event_id.in_(part))
                        .values(voided_ms=stamp)
                    )
                days: dict[str, set[int]] = {}
                for _, typ, t in found:
                    days.setdefault(typ, set()).add(t - t % DAY)
                for meter in self.meters.list_in(conn, tenant_id, set(days)):
                    for day in sorted(days[meter.event_type]):
                        self.recompute(conn, meter, day, day + DAY)
        except BaseException:
            self.rollups.forget_groups()
            raise
        voided = {f[0] for f in found}
        return [i for i in dict.fromkeys(ids) if i in voided], [
            i for i in dict.fromkeys(ids) if i not in voided
        ]

    def counts(self, tenant_id: int, since_ms: int) -> dict[str, int]:
        """Stored and voided events, and failures, received since a time (for health views)."""
        with self.engine.connect() as conn:
            stored = conn.execute(
                select(func.count()).where(
                    events.c.tenant_id == tenant_id, events.c.received_ms >= since_ms
                )
            ).scalar_one()
            failed = conn.execute(
                select(func.count()).where(
                    failures.c.tenant_id == tenant_id, failures.c.received_ms >= since_ms
                )
            ).scalar_one()
        return {"stored": int(stored), "failed": int(failed)}


def _split_repeats(
    items: list[tuple[int, Event]],
) -> tuple[list[tuple[int, Event]], list[tuple[int, Event, Event]]]:
    """First occurrence of each key in a batch, and later repeats with their first."""
    first: dict[tuple[str, str], Event] = {}
    firsts: list[tuple[int, Event]] = []
    repeats: list[tuple[int, Event, Event]] = []
    for index, ev in items:
        key = (ev.source, ev.id)
        prior = first.get(key)
        if prior is None:
            first[key] = ev
            firsts.append((index, ev))
        else:
            repeats.append((index, ev, prior))
    return firsts, repeats


def _judge_repeat(outcome: BatchOutcome, index: int, ev: Event, kept: Event) -> None:
    if ev.same_content(kept.type, kept.subject, kept.time_ms, kept.data_json):
        outcome.duplicates += 1
    else:
        outcome.conflicts.append((index, ev.id))


def _failure_row(
    tenant_id: int, received: int, channel: str, error: str, record: Any
) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "received_ms": received,
        "channel": channel,
        "error": error,
        "record": orjson.dumps(record).decode(),
    }


def _filtered(
    query: Select[Any],
    tenant_id: int,
    lo: int | None,
    hi: int | None,
    type_: str | None,
    subject: str | None,
) -> Select[Any]:
    """The tenant's events, narrowed by whichever of time range, type and subject are given."""
    e = events.c
    query = query.where(e.tenant_id == tenant_id)
    if lo is not None:
        query = query.where(e.time_ms >= lo)
    if hi is not None:
        query = query.where(e.time_ms < hi)
    if type_ is not None:
        query = query.where(e.type == type_)
    if subject is not None:
        query = query.where(e.subject == subject)
    return query
