"""Records a profile could not process, keyed by record, written with the events.

A processing failure (a record naming an unregistered project, say) is kept in
`failures` with a `ref` (the record's key): sending it again updates that one
row, and storing the record later (re-sent or retried once the cause is fixed)
removes it, all in the transaction that stores the events.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine, delete, insert, select, update

from usagekit.core.records import Failure
from usagekit.store.batches import BatchOutcome, TenantBatch
from usagekit.store.event_reads import PAGE
from usagekit.store.events import Events
from usagekit.store.failures import failure_of, owned
from usagekit.store.schema import events, failures
from usagekit.store.util import chunks


@dataclass(frozen=True, slots=True)
class Pending:
    """A record that failed processing: its key, why, the record verbatim, and whose it is."""

    ref: str
    error: str
    record: Any
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class Written:
    outcome: BatchOutcome
    failed_new: int  # processing failures kept for the first time
    failed_again: int  # already kept under the same key: updated, counted once
    settled: int  # earlier processing failures removed because the record is now stored


class Processing:
    def __init__(self, engine: Engine, events_: Events) -> None:
        self.engine = engine
        self.events = events_

    def write(
        self,
        batch: TenantBatch,
        refs: dict[int, str],
        channel: str,
        pending: Sequence[Pending],
        subject: str | None = None,
    ) -> Written:
        """Store the batch's events and keep `pending` (keyed) in `channel`, in one transaction.

        `refs` maps each event's index to its key: stored or duplicate events
        settle a processing failure kept under that key (only `subject`'s, if given).
        """
        f = failures.c
        tenant_id = batch.tenant_id
        try:
            with self.events.write_engine.begin() as conn:
                [outcome] = self.events._write(conn, [batch])
                clashed = {i for i, _ in outcome.conflicts}
                indexes = [r.position for r in batch.rows] + [r.row.position for r in batch.repeats]
                done = [refs[i] for i in indexes if i not in clashed]
                settled = 0
                for part in chunks(done, 500):
                    settled += conn.execute(
                        delete(failures).where(
                            *owned(tenant_id, subject), f.channel == channel, f.ref.in_(part)
                        )
                    ).rowcount
                kept: dict[str, int] = {}
                for part in chunks([p.ref for p in pending], 500):
                    rows = conn.execute(
                        select(f.ref, f.id).where(
                            *owned(tenant_id, subject), f.channel == channel, f.ref.in_(part)
                        )
                    )
                    kept.update((str(r), int(i)) for r, i in rows)
                stamp = self.events.clock.now_ms()
                fresh: dict[str, dict[str, Any]] = {}
                for p in pending:
                    text = orjson.dumps(p.record).decode()
                    if p.ref in kept:
                        conn.execute(
                            update(failures)
                            .where(f.id == kept[p.ref])
                            .values(error=p.error, record=text, subject=p.subject)
                        )
                    else:
                        fresh[p.ref] = {"tenant_id": tenant_id, "received_ms": stamp,
                                        "channel": channel, "error": p.error, "record": text,
                                        "ref": p.ref, "subject": p.subject}  # fmt: skip
                if fresh:
                    conn.execute(insert(failures), list(fresh.values()))
        except BaseException:
            self.events.rollups.forget_groups()
            raise
        return Written(outcome, len(fresh), len(pending) - len(fresh), settled)

    def listed(
        self,
        tenant_id: int,
        channel: str,
        ids: Sequence[int] | None = None,
        subject: str | None = None,
    ) -> list[Failure]:
        """Failures of a channel (all, or those of `ids`; of one subject if given), oldest first."""
        f = failures.c
        query = select(failures).where(*owned(tenant_id, subject), f.channel == channel)
        if ids is not None:
            query = query.where(f.id.in_(list(ids)))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(f.id)).all()
        return [failure_of(r) for r in rows]

    def received(
        self, tenant_id: int, channel: str, lo: int, hi: int, subject: str | None = None
    ) -> list[Failure]:
        """Failures of a channel kept in [lo, hi) (received time), oldest first."""
        f = failures.c
        query = select(failures).where(
            *owned(tenant_id, subject),
            f.channel == channel,
            f.received_ms >= lo,
            f.received_ms < hi,
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(f.id)).all()
        return [failure_of(r) for r in rows]

    def clear(
        self, tenant_id: int, channel: str, ids: Sequence[int], subject: str | None = None
    ) -> list[int]:
        """Delete failures of a channel (of one subject if given) by id; the ids that were there."""
        f = failures.c
        found: list[int] = []
        with self.events.write_engine.begin() as conn:
            for part in chunks(list(dict.fromkeys(ids)), 500):
                where = (*owned(tenant_id, subject), f.channel == channel, f.id.in_(part))
                found += conn.execute(select(f.id).where(*where)).scalars()
                conn.execute(delete(failures).where(*where))
        return sorted(found)

    def loaded(
        self, tenant_id: int, types: Sequence[str], lo: int, hi: int, subject: str | None = None
    ) -> Iterator[list[tuple[str, str, str]]]:
        """(source, type, data JSON) of live events of `types` received in [lo, hi), in pages.

        Only `subject`'s events, if given.
        """
        e = events.c
        after = 0
        while True:
            query = (
                select(e.seq, e.source, e.type, e.data)
                .where(
                    e.tenant_id == tenant_id,
                    e.type.in_(list(types)),
                    e.received_ms >= lo,
                    e.received_ms < hi,
                    e.voided_ms.is_(None),
                    e.seq > after,
                )
                .order_by(e.seq)
                .limit(PAGE)
            )
            if subject is not None:
                query = query.where(e.subject == subject)
            with self.engine.connect() as conn:
                rows = conn.execute(query).all()
            yield [(src, typ, data) for _, src, typ, data in rows]
            if len(rows) < PAGE:
                return
            after = rows[-1].seq
