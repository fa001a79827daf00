"""Raw events: the exactly-once write (with rollups and failures), listing, voids and rebuilds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Connection, Engine, func, insert, select, update

from usagekit.core import rollup
from usagekit.core.clock import Clock
from usagekit.core.events import CONFLICT, Event, format_time
from usagekit.core.jsondata import printable
from usagekit.core.meters import Meter
from usagekit.core.windows import DAY, HOUR
from usagekit.store import ingest_stats, pg
from usagekit.store.batches import BatchOutcome, TenantBatch, meter_ids_for
from usagekit.store.event_reads import PAGE, EventReads
from usagekit.store.limit_state import LimitKeeper
from usagekit.store.meters import Meters
from usagekit.store.rollups import Rollups
from usagekit.store.rows import Content, EventRow
from usagekit.store.schema import events, failures
from usagekit.store.util import chunks, insert_values

_INSERT_HEAD = (
    "INSERT INTO events (seq, tenant_id, source, event_id, type, subject, time_ms, hour, data, "
    "received_ms)"
)
_INSERT_TAIL = "ON CONFLICT (tenant_id, source, event_id) DO NOTHING"
_VOID_COLUMNS = (events.c.event_id, events.c.type, events.c.time_ms, events.c.voided_ms,
                 events.c.seq, events.c.subject, events.c.data)  # fmt: skip


class Stored(NamedTuple):
    """A batch's newly stored rows, to be rolled up with the rest of its tenant's."""

    batch: TenantBatch
    base_seq: int  # the seq before the batch's first row
    rows: list[tuple[int, EventRow]]  # (seq, row)


class Events(EventReads):
    """Writes (the exactly-once ingest, voids, recomputes); reads come from EventReads."""

    def __init__(self, engine: Engine, meters: Meters, rollups: Rollups, clock: Clock) -> None:
        self.clock = clock
        self.engine = engine
        self.write_engine = engine.execution_options(immediate=True)
        self.meters = meters
        self.rollups = rollups
        self.limits = LimitKeeper(self)

    def write(self, batches: Sequence[TenantBatch]) -> list[BatchOutcome]:
        """Store every batch in one transaction: dedup, insert, rollups, failures."""
        try:
            with self.write_engine.begin() as conn:
                return self._write(conn, batches)
        except BaseException:
            self.rollups.forget_groups()
            raise

    def _write(self, conn: Connection, batches: Sequence[TenantBatch]) -> list[BatchOutcome]:
        seq = int(conn.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one())
        received = self.clock.now_ms()
        outcomes = []
        fail_rows: list[dict[str, Any]] = []
        new_rows: dict[int, list[Stored]] = {}  # per tenant, rolled up once
        counts: dict[int, ingest_stats.Counts] = {}
        for batch in batches:
            outcome = BatchOutcome()
            tid, rows = batch.tenant_id, batch.rows
            stored, skipped = self._insert_new(conn, tid, seq, received, rows)
            if stored:
                new_rows.setdefault(tid, []).append(Stored(batch, seq, stored))
            seq += len(rows)
            outcome.accepted = len(stored)
            kept = self._kept(conn, tid, [rows[k] for k in skipped])
            for k in skipped:
                _judge_repeat(outcome, rows[k], kept[(rows[k].source, rows[k].id)])
            for row, at in batch.repeats:
                _judge_repeat(outcome, row, kept.get((row.source, row.id), rows[at].content))
            outcome.conflicts.sort()
            outcome.failures_not_kept = batch.failures_dropped
            if batch.keep_conflicts and outcome.conflicts:
                by_index = {r.position: r for r in rows} | {r.position: r for r, _ in batch.repeats}
                kept_conflicts = outcome.conflicts
                if batch.failure_cap is not None:
                    room = max(0, batch.failure_cap - len(batch.failures))
                    kept_conflicts = outcome.conflicts[:room]
                    outcome.failures_not_kept += len(outcome.conflicts) - len(kept_conflicts)
                fail_rows += [
                    _failure_row(
                        tid,
                        received,
                        batch.channel,
                        CONFLICT,
                        _record(by_index[i]),
                        by_index[i].subject,
                    )
                    for i, _ in kept_conflicts
                ]
            fail_rows += [
                _failure_row(tid, received, f.channel, f.error, f.record, f.subject)
                for f in batch.failures
            ]
            outcomes.append(outcome)
            tally = counts.get(tid)
            if tally is None:
                tally = counts[tid] = ingest_stats.Counts()
            tally.accepted += outcome.accepted
            tally.duplicates += outcome.duplicates
            tally.conflicts += len(outcome.conflicts)
            tally.rejected += len(batch.failures) + batch.failures_dropped
        for tid, entries in new_rows.items():
            meters = self._roll_up(conn, tid, entries)
            self.limits.inserted(conn, tid, meters, partial(_decoded, entries), received)
        if fail_rows:
            conn.execute(insert(failures), fail_rows)
        ingest_stats.bump(conn, counts, received)
        return outcomes

    def _insert_new(
        self, conn: Connection, tenant_id: int, last_seq: int, received: int, rows: list[EventRow]
    ) -> tuple[list[tuple[int, EventRow]], list[int]]:
        """Insert rows whose key is new, in few statements: ((seq, row) stored, skipped positions).

        The unique key decides atomically; only when some rows were skipped do we
        look up which, so the common case costs a single pass.
        """
        if not rows:
            return [], []
        params = [
            (last_seq + k, tenant_id, src, eid, typ, subj, t, t // HOUR, data, received)
            for k, (_, eid, src, typ, subj, t, data) in enumerate(rows, 1)
        ]
        inserted = insert_values(conn, _INSERT_HEAD, params, _INSERT_TAIL, self.rollups.mark)
        if inserted == len(rows):
            return [(last_seq + k, row) for k, row in enumerate(rows, 1)], []
        present = set(
            conn.execute(
                select(events.c.seq).where(events.c.seq.between(last_seq + 1, last_seq + len(rows)))
            ).scalars()
        )
        stored: list[tuple[int, EventRow]] = []
        skipped: list[int] = []
        for k, row in enumerate(rows):
            if last_seq + k + 1 in present:
                stored.append((last_seq + k + 1, row))
            else:
                skipped.append(k)
        return stored, skipped

    def _roll_up(self, conn: Connection, tenant_id: int, entries: list[Stored]) -> list[Meter]:
        """Rollup deltas of newly stored rows, in one merge for all of a tenant's batches.

        A batch's precomputed deltas are used when every row of it was new and its
        meters are still the tenant's meters; otherwise they are computed here, from
        the rows stored (`data` decoded only for metered types). Returns the meters.
        """
        types = {row.type for entry in entries for _, row in entry.rows}
        meters = self.meters.list_in(conn, tenant_id, types)
        if not meters:
            return meters
        total = rollup.Deltas()
        recompute: list[tuple[int, EventRow]] = []
        for batch, base, stored in entries:
            if (
                batch.deltas is not None
                and len(stored) == len(batch.rows)
                and batch.meter_ids == meter_ids_for(meters, {row.type for row in batch.rows})
            ):
                total.merge(batch.deltas, seq_offset=base)
            else:
                recompute += stored
            # Merged deltas are consumed (shared and shifted): should this transaction fail,
            # a retry of the batch computes them again from its stored rows.
            batch.deltas = None
        if recompute:
            metered = {m.event_type for m in meters}
            loads = orjson.loads
            evs = [
                (seq, Event(eid, src, typ, subj, t, loads(data), data))
                for seq, (_, eid, src, typ, subj, t, data) in recompute
                if typ in metered
            ]
            total.merge(rollup.compute(meters, evs))
        self.rollups.apply(conn, total)
        return meters

    def _kept(
        self, conn: Connection, tenant_id: int, rows: list[EventRow]
    ) -> dict[tuple[str, str], Content]:
        """The stored content of these rows' keys."""
        by_source: dict[str, list[str]] = {}
        for row in rows:
            by_source.setdefault(row.source, []).append(row.id)
        if conn.dialect.name == "postgresql":
            return pg.kept(conn, tenant_id, by_source)
        out: dict[tuple[str, str], Content] = {}
        e = events.c
        for source, ids in by_source.items():
            for part in chunks(ids, 500):
                found = conn.execute(
                    select(e.event_id, e.type, e.subject, e.time_ms, e.data).where(
                        e.tenant_id == tenant_id, e.source == source, e.event_id.in_(part)
                    )
                )
                for eid, typ, subj, t, data in found:
                    out[(source, eid)] = Content(typ, subj, t, data)
        return out

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

    def void(self, tenant_id: int, source: str, ids: Sequence[str]) -> Voids:
        """Void live events by id; ids already voided keep their first void time."""
        e = events.c
        wanted = list(dict.fromkeys(ids))
        try:
            with self.write_engine.begin() as conn:
                rows: list[Any] = []
                for part in chunks(wanted, 500):
                    rows += conn.execute(
                        select(*_VOID_COLUMNS).where(
                            e.tenant_id == tenant_id,
                            e.source == source,
                            e.event_id.in_(part),
                        )
                    ).all()
                already = {r[0]: r[3] for r in rows if r[3] is not None}
                live = [r for r in rows if r[3] is None]
                found = [r[:3] for r in live]
                if found:
                    meters = self._void_rows(conn, tenant_id, source, found)
                    gone = [(r.seq, Event(r.event_id, source, r.type, r.subject, r.time_ms,
                                          orjson.loads(r.data), r.data)) for r in live]  # fmt: skip
                    self.limits.voided(conn, tenant_id, meters, lambda: gone, self.clock.now_ms())
        except BaseException:
            self.rollups.forget_groups()
            raise
        done = {f[0] for f in found}
        return Voids(
            [i for i in wanted if i in done],
            {i: already[i] for i in wanted if i in already},
            [i for i in wanted if i not in done and i not in already],
        )

    def _void_rows(
        self, conn: Connection, tenant_id: int, source: str, found: list[tuple[str, str, int]]
    ) -> list[Meter]:
        e = events.c
        stamp = self.clock.now_ms()
        for part in chunks([f[0] for f in found], 500):
            conn.execute(
                update(events)
                .where(e.tenant_id == tenant_id, e.source == source, e.event_id.in_(part))
                .values(voided_ms=stamp)
            )
        days: dict[str, set[int]] = {}
        for _, typ, t in found:
            days.setdefault(typ, set()).add(t - t % DAY)
        meters = self.meters.list_in(conn, tenant_id, set(days))
        for meter in meters:
            for day in sorted(days[meter.event_type]):
                self.recompute(conn, meter, day, day + DAY)
        return meters


@dataclass(frozen=True, slots=True)
class Voids:
    """What a void did, in the order asked: voided now, voided before (at ms), unknown."""

    voided: list[str]
    already: dict[str, int]
    not_found: list[str]


def _decoded(entries: list[Stored]) -> list[tuple[int, Event]]:
    loads = orjson.loads
    return [
        (seq, Event(eid, src, typ, subj, t, loads(data), data))
        for entry in entries
        for seq, (_, eid, src, typ, subj, t, data) in entry.rows
    ]


def _judge_repeat(outcome: BatchOutcome, row: EventRow, kept: Content) -> None:
    if row.content == kept:
        outcome.duplicates += 1
    else:
        outcome.conflicts.append((row.position, row.id))


def _record(row: EventRow) -> dict[str, Any]:
    """The row as a client would send it (kept with a conflict failure)."""
    return {
        "id": row.id,
        "source": row.source,
        "type": row.type,
        "subject": row.subject,
        "time": format_time(row.time_ms),
        "data": orjson.loads(row.data),
    }


def _failure_row(
    tenant_id: int, received: int, channel: str, error: str, record: Any, subject: str | None
) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "received_ms": received,
        "channel": channel,
        "error": printable(error),  # an error may quote what was sent
        "record": orjson.dumps(record).decode(),
        "subject": subject,
    }
