"""Reading raw events: listing, export pages, and raw reads for queries and rebuilds.

Every read is keyset-paged by (time_ms, seq). A subject's events are found
through ix_events_subject_hour, (tenant, hour, subject): one index seek per hour
and subject of the range, in windows of hours that start at a day (eight on
PostgreSQL, where each query is a round trip) and double while they come back
empty, so a rare subject over a long range costs a few dozen queries and a busy
one a page at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Row, Select, func, select, tuple_

from usagekit.core.events import Event
from usagekit.core.records import StoredEvent
from usagekit.core.windows import DAY, HOUR
from usagekit.store.schema import events, failures

PAGE = 5_000
_FIRST_WINDOW = DAY // HOUR  # hours
_MAX_WINDOW = 32 * DAY // HOUR
# On a database server each window's query is a round trip: start wider.
_FIRST_WINDOW_SERVER = 8 * DAY // HOUR


class EventReads:
    """The read side of store.events.Events."""

    engine: Engine

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
        with self.engine.connect() as conn:
            if subject is None:
                query = _filtered(select(events), tenant_id, lo, hi, type_)
                order = (e.time_ms.desc(), e.seq.desc()) if newest_first else (e.time_ms, e.seq)
                if after is not None:
                    key, bound = tuple_(e.time_ms, e.seq), tuple_(*after)
                    query = query.where(key < bound if newest_first else key > bound)
                rows: list[Row[Any]] = list(conn.execute(query.order_by(*order).limit(limit)).all())
            else:
                rows = []
                query = select(events).where(e.tenant_id == tenant_id)
                scan = self._by_subject(
                    conn, query, tenant_id, [subject], lo, hi, newest_first, type_, after
                )
                for part in scan:
                    rows += part
                    if len(rows) >= limit:
                        break
                rows = rows[:limit]
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

    def by_seq(self, tenant_id: int, seq: int, type_: str) -> StoredEvent | None:
        """One live event of a type by its sequence number (a stable integer id)."""
        e = events.c
        query = select(events).where(
            e.seq == seq, e.tenant_id == tenant_id, e.type == type_, e.voided_ms.is_(None)
        )
        with self.engine.connect() as conn:
            r = conn.execute(query).first()
        if r is None:
            return None
        data = orjson.loads(r.data)
        return StoredEvent(r.seq, r.event_id, r.source, r.type, r.subject, r.time_ms, data,
                           r.received_ms, r.voided_ms)  # fmt: skip

    def export_pages(
        self,
        tenant_id: int,
        lo: int | None,
        hi: int | None,
        type_: str | None,
        subject: str | None = None,
    ) -> Iterator[Sequence[tuple[Any, ...]]]:
        """Rows (event_id, source, type, subject, time_ms, data, voided_ms, seq) by time, paged."""
        e = events.c
        columns = (e.event_id, e.source, e.type, e.subject, e.time_ms, e.data, e.voided_ms, e.seq)
        if subject is not None:
            query: Select[Any] = select(*columns).where(e.tenant_id == tenant_id)
            yield from self._by_subject(None, query, tenant_id, [subject], lo, hi, False, type_)
            return
        query = _filtered(select(*columns), tenant_id, lo, hi, type_)
        after: tuple[int, int] | None = None
        while True:
            page = query
            if after is not None:
                page = page.where(tuple_(e.time_ms, e.seq) > tuple_(*after))
            with self.engine.connect() as conn:
                rows = _plain(conn, page.order_by(e.time_ms, e.seq).limit(PAGE))
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
        columns = (e.seq, e.event_id, e.source, e.type, e.subject, e.time_ms, e.data)
        query = select(*columns).where(e.tenant_id == tenant_id, e.voided_ms.is_(None))
        if subjects is not None:
            pages: Iterator[Sequence[Any]] = self._by_subject(
                conn, query, tenant_id, list(subjects), lo, hi, False, type_
            )
        else:
            query = query.where(e.type == type_, e.time_ms >= lo, e.time_ms < hi)
            pages = self._by_time(conn, query)
        for rows in pages:
            for seq, eid, src, typ, subj, t, data in rows:
                yield seq, Event(eid, src, typ, subj, t, orjson.loads(data), data)

    def _by_time(self, conn: Connection | None, query: Select[Any]) -> Iterator[list[Row[Any]]]:
        e = events.c
        after: tuple[int, int] | None = None
        while True:
            page = query
            if after is not None:
                page = page.where(tuple_(e.time_ms, e.seq) > tuple_(*after))
            rows = self._all(conn, page.order_by(e.time_ms, e.seq).limit(PAGE))
            if rows:
                yield rows
            if len(rows) < PAGE:
                return
            after = (rows[-1].time_ms, rows[-1].seq)

    def _by_subject(
        self,
        conn: Connection | None,
        query: Select[Any],
        tenant_id: int,
        subjects: list[str],
        lo: int | None,
        hi: int | None,
        newest_first: bool,
        type_: str | None,
        after: tuple[int, int] | None = None,
    ) -> Iterator[list[Row[Any]]]:
        """Pages of `query`'s rows of these subjects (and type) in [lo, hi), by (time, seq).

        `query` selects time_ms and seq, filters by tenant and has no type or time
        terms; bounds are clamped to the tenant's first and last event times.
        """
        if not subjects:
            return
        if conn is None and self.engine.dialect.name == "postgresql":
            # One connection for the walk's many small queries: on a server each
            # checkout (ping) and return (rollback) is a round trip of its own.
            with self.engine.connect() as own:
                yield from self._by_subject(
                    own, query, tenant_id, subjects, lo, hi, newest_first, type_, after
                )
            return
        # Clamp to the tenant's stored span: the walk below costs one query per
        # window, so an open or far bound (0, year 9999) must not become millions.
        first, last = self._time_span(conn, tenant_id)
        if first is None or last is None:
            return
        lo = first if lo is None else max(lo, first)
        hi = last + 1 if hi is None else min(hi, last + 1)
        if hi <= lo:
            return
        if after is not None:
            if newest_first:
                hi = min(hi, after[0] + 1)
            else:
                lo = max(lo, after[0])
        e = events.c
        # `+ 0` and `|| ''`: without statistics SQLite would rather walk a time or
        # type index than seek the subject index; expressions keep it on the latter.
        # PostgreSQL does the opposite: the expressions made it walk the type index.
        sqlite = self.engine.dialect.name == "sqlite"
        t = e.time_ms + 0 if sqlite else e.time_ms
        if type_ is not None:
            query = query.where((e.type.concat("") if sqlite else e.type) == type_)
        order = (t.desc(), e.seq.desc()) if newest_first else (t, e.seq)
        first_hour, end_hour = lo // HOUR, -(-hi // HOUR)
        edge = end_hour if newest_first else first_hour
        first_width = _FIRST_WINDOW if sqlite else _FIRST_WINDOW_SERVER
        width = first_width
        while first_hour < edge if newest_first else edge < end_hour:
            if newest_first:
                start, stop = max(first_hour, edge - width), edge
            else:
                start, stop = edge, min(end_hour, edge + width)
            # The time bounds repeat the window's hours: a planner that picks a time
            # index instead of the subject index (PostgreSQL without statistics)
            # then reads one window, not the whole range, per query.
            window = query.where(
                e.hour.in_(list(range(start, stop))),
                e.subject.in_(subjects),
                t >= max(lo, start * HOUR),
                t < min(hi, stop * HOUR),
            )
            found = 0
            bound = after
            while True:
                page = window
                if bound is not None:
                    key, upto = tuple_(t, e.seq), tuple_(*bound)
                    page = page.where(key < upto if newest_first else key > upto)
                rows = self._all(conn, page.order_by(*order).limit(PAGE))
                if rows:
                    yield rows
                found += len(rows)
                if len(rows) < PAGE:
                    break
                bound = (rows[-1].time_ms, rows[-1].seq)
            width = first_width if found else min(2 * width, _MAX_WINDOW)
            edge = start if newest_first else stop

    def _time_span(self, conn: Connection | None, tenant_id: int) -> tuple[int | None, int | None]:
        """The tenant's first and last event times (two seeks on ix_events_time)."""
        e = events.c
        first = select(func.min(e.time_ms)).where(e.tenant_id == tenant_id)
        last = select(func.max(e.time_ms)).where(e.tenant_id == tenant_id)
        with self.engine.connect() if conn is None else nullcontext(conn) as c:
            return c.execute(first).scalar(), c.execute(last).scalar()

    def _all(self, conn: Connection | None, query: Select[Any]) -> list[Row[Any]]:
        if conn is not None:
            return list(conn.execute(query).all())
        with self.engine.connect() as own:
            return list(own.execute(query).all())

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


def _plain(conn: Connection, query: Select[Any]) -> list[tuple[Any, ...]]:
    """The DBAPI cursor's plain tuples: exports fetch millions of rows."""
    cursor = conn.execute(query).cursor
    assert cursor is not None
    return list(cursor.fetchall())


def _filtered(
    query: Select[Any], tenant_id: int, lo: int | None, hi: int | None, type_: str | None
) -> Select[Any]:
    """The tenant's events, narrowed by whichever of time range and type are given."""
    e = events.c
    query = query.where(e.tenant_id == tenant_id)
    if lo is not None:
        query = query.where(e.time_ms >= lo)
    if hi is not None:
        query = query.where(e.time_ms < hi)
    if type_ is not None:
        query = query.where(e.type == type_)
    return query
