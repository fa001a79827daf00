"""Limit state, kept by the writer inside the transaction that changes the usage.

For every limit on a meter the commit touches, each (subject, period) the new (or
voided) events fall in gets its usage updated and its crossed thresholds compared;
`limit.threshold_crossed` / `_cleared` alerts go to the outbox in the same
transaction, so a crash can neither lose nor double one.

Calendar periods are the events' own day, week or month. A rolling period is the
window ending on the commit's day: only events inside it move it, and a subject's
crossed thresholds carry over from the previous day's window (the window slides; it
does not start clean).

A key met for the first time starts from the committed usage before this
transaction (`base`, a query the services install) plus this commit's events, or,
without one (and always for unique counts and latest values), from a recount of the
period's events in this transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, delete, select

from usagekit.core.aggregate import Cell
from usagekit.core.limit_periods import ROLLING_DAYS, Period
from usagekit.core.limit_tally import (
    Tally,
    cell_from_text,
    cell_text,
    passes,
    subtractable,
    usage_from_text,
    usage_of,
    usage_text,
)
from usagekit.core.limit_touches import Items, Key, MeterRows, Touch, touches
from usagekit.core.limits import Limit, Scope, reached, reached_nanos
from usagekit.core.meters import Aggregation, Meter
from usagekit.core.numbers import NANO, Number, to_number
from usagekit.store.alerts import CLEARED, CROSSED, AlertRow, record
from usagekit.store.event_reads import EventReads
from usagekit.store.limits import on_meters
from usagekit.store.schema import limit_members, limit_state
from usagekit.store.util import chunks, insert_values

# The committed aggregates (before the running transaction) of a meter per subject for
# these subjects (None: every subject, as '') within a limit's filter over a period.
BaseReader = Callable[[Meter, Limit, list[str] | None, Period], dict[str, Cell]]

_STATE_COLUMNS = ("limit_id", "subject", "period_start", "period_end", "usage", "crossed",
                  "updated_ms", "cell")  # fmt: skip
_STATE_HEAD = f"INSERT INTO limit_state ({', '.join(_STATE_COLUMNS)})"
_STATE_TAIL = "ON CONFLICT (limit_id, subject, period_start) DO UPDATE SET " + ", ".join(
    f"{c} = excluded.{c}" for c in _STATE_COLUMNS[3:]
)
_MEMBERS_HEAD = "INSERT INTO limit_members (limit_id, subject, period_start, value)"
_MEMBERS_TAIL = "ON CONFLICT (limit_id, subject, period_start, value) DO NOTHING"


@dataclass(slots=True)
class Kept:
    """One limit_state row."""

    usage: Number | None
    crossed: frozenset[int]
    cell: Cell | None  # None for unique counts


class LimitKeeper:
    def __init__(self, reads: EventReads) -> None:
        self.reads = reads
        self.base: BaseReader | None = None

    # -- the writer's hooks ----------------------------------------------------------------

    def inserted(self, conn: Connection, tenant_id: int, meters: Sequence[Meter],
                 items: Callable[[], Items], now: int) -> int:  # fmt: skip
        """New events of these meters' types were stored: update state, record alerts.
        `items` gives the (seq, event) pairs, decoded only if some limit needs them."""
        return self._run(conn, tenant_id, meters, items, now, voided=False)

    def voided(self, conn: Connection, tenant_id: int, meters: Sequence[Meter],
               items: Callable[[], Items], now: int) -> int:  # fmt: skip
        """These events were voided (rollups already recounted): move usage back."""
        return self._run(conn, tenant_id, meters, items, now, voided=True)

    def _run(self, conn: Connection, tenant_id: int, meters: Sequence[Meter],
             items_of: Callable[[], Items], now: int, voided: bool) -> int:  # fmt: skip
        if not meters:
            return 0
        by_id = {m.id: m for m in meters}
        limits = on_meters(conn, tenant_id, list(by_id))
        if not limits:
            return 0
        items = items_of()
        alerts: list[AlertRow] = []
        columns: dict[int, MeterRows] = {}
        for limit in limits:
            meter = by_id[limit.meter_id]
            rows = columns.get(meter.id)
            if rows is None:
                rows = columns[meter.id] = MeterRows.read(meter, items)
            moved = touches(limit, meter, rows, now, voided)
            if moved:
                alerts += self._apply(conn, limit, meter, moved, now, voided)
        return record(conn, alerts)

    # -- one limit ---------------------------------------------------------------------------

    def _apply(self, conn: Connection, limit: Limit, meter: Meter, touches: dict[Key, Touch],
               now: int, voided: bool) -> list[AlertRow]:  # fmt: skip
        kept = _load(conn, limit.id, list(touches))
        carried = _carry(conn, limit.id, touches) if limit.period in ROLLING_DAYS else {}
        before = {k: kept[k].crossed if k in kept else carried.get(k[0], frozenset())
                  for k in touches}  # fmt: skip
        # A key not kept yet is counted whole: from what came before this commit, where
        # anything can have (`_may_have_past`), and this commit's events.
        past = [k for k in touches if k not in kept and (not voided or before[k])
                and self._may_have_past(limit, touches[k].period)]  # fmt: skip
        unique = meter.aggregation is Aggregation.UNIQUE_COUNT
        resum = voided and (unique or not subtractable(meter))
        recount = [k for k in touches if k in kept and resum]
        whole = self._whole(conn, limit, meter, touches, past, recount, voided)
        moves: list[tuple[Key, list[AlertRow]]] = []
        rows: dict[Key, tuple[object, ...]] = {}
        nanos_of = _NANOS_OF.get(meter.aggregation)
        for key, touch in touches.items():
            state = kept.get(key)
            if state is None and voided and not before[key]:
                continue  # never counted since the limit was made: nothing to move back
            if unique:
                usage: Number | None = self._members(conn, limit.id, key, touch, state, whole)
                cell = None
                after = reached(limit, usage)
            else:
                cell = _cell_after(meter, touch, state, whole.get(key), voided)
                usage = usage_of(cell, meter.aggregation)
                after = (reached(limit, usage) if nanos_of is None
                         else reached_nanos(limit, nanos_of(cell)))  # fmt: skip
            crossed = frozenset(after)
            if crossed != before[key]:
                moves.append((key, _alerts(limit, key, touch.period, usage, before[key],
                                           crossed, now)))  # fmt: skip
            kept_cell = None if cell is None else cell_text(cell)
            rows[key] = (limit.id, key[0], key[1], touch.period.end, usage_text(usage),
                         _crossed_text(after), now, kept_cell)  # fmt: skip
        _save(conn, rows)
        moved = sorted(s for s, _ in rows if s in carried)
        if moved:
            _drop_others(conn, limit.id, next(iter(rows))[1], moved)
        moves.sort(key=lambda move: move[0])
        return [alert for _, some in moves for alert in some]

    @staticmethod
    def _may_have_past(limit: Limit, period: Period) -> bool:
        """Whether events committed before this transaction can count for a key not kept.

        Every commit since the limit began counting keeps the calendar periods it moves,
        so there only events stored before that (their span is `limit.backlog`) can. A
        rolling window also holds events committed on earlier days, into other windows
        or ahead of their time: it always reads its past.
        """
        if limit.period in ROLLING_DAYS:
            return True
        span = limit.backlog
        return span is not None and period.start <= span[1] and span[0] < period.end

    def _whole(self, conn: Connection, limit: Limit, meter: Meter, touches: dict[Key, Touch],
               past: list[Key], recount: list[Key], voided: bool) -> dict[Key, Tally]:  # fmt: skip
        """Whole counts of keys: `recount` read in this transaction (this commit included),
        `past` from the committed usage before it (to add this commit's events to) where
        a base reader can give it, else also read in this transaction."""
        by_period: dict[Period, list[str]] = {}
        committed: dict[Period, list[str]] = {}
        unique = meter.aggregation is Aggregation.UNIQUE_COUNT
        use_base = self.base is not None and not unique and not voided
        for key in past:
            into = committed if use_base else by_period
            into.setdefault(touches[key].period, []).append(key[0])
        for key in recount:
            by_period.setdefault(touches[key].period, []).append(key[0])
        subject_scope = limit.scope is Scope.SUBJECT
        out: dict[Key, Tally] = {}
        for period, subjects in by_period.items():
            found = self._recount(conn, limit, meter, period, subjects if subject_scope else None)
            for subject in subjects:
                out[(subject, period.start)] = found.get(subject, Tally())
        if self.base is not None:
            for period, subjects in committed.items():
                cells = self.base(meter, limit, subjects if subject_scope else None, period)
                for subject in subjects:
                    tally = Tally(cells.get(subject) or Cell())
                    tally.cell.merge(touches[(subject, period.start)].tally.cell)
                    out[(subject, period.start)] = tally
        return out

    def _recount(self, conn: Connection, limit: Limit, meter: Meter, period: Period,
                 subjects: list[str] | None) -> dict[str, Tally]:  # fmt: skip
        """The events of these subjects ('' for all: tenant-wide) in a period, read in this
        transaction (voids excluded), per subject."""
        found: dict[str, Tally] = {}
        raw = self.reads.raw(conn, limit.tenant_id, meter.event_type, period.start, period.end,
                             sorted(subjects) if subjects is not None else None)  # fmt: skip
        for seq, ev in raw:
            if passes(limit, meter, ev):
                who = ev.subject if subjects is not None else ""
                tally = found.get(who)
                if tally is None:
                    tally = found[who] = Tally()
                tally.add(meter, seq, ev)
        return found

    @staticmethod
    def _members(conn: Connection, limit_id: int, key: Key, touch: Touch, state: Kept | None,
                 whole: dict[Key, Tally]) -> int:  # fmt: skip
        """A unique count's members after this commit, kept in limit_members."""
        counted = whole.get(key)
        if counted is None:
            if state is not None:
                return int(state.usage or 0) + _add_members(conn, limit_id, key, touch.tally.values)
            counted = touch.tally
        m = limit_members.c
        if state is not None:
            conn.execute(delete(limit_members).where(
                m.limit_id == limit_id, m.subject == key[0], m.period_start == key[1]
            ))  # fmt: skip
        _add_members(conn, limit_id, key, counted.values)
        return len(counted.values)


def _cell_after(meter: Meter, touch: Touch, state: Kept | None, whole: Tally | None,
                voided: bool) -> Cell:  # fmt: skip
    """A cell aggregation's kept cell after this commit."""
    if whole is not None:
        return whole.cell
    if state is None or state.cell is None:
        return touch.tally.cell  # nothing counted before: this commit is all of it
    cell = state.cell
    if not voided:
        cell.merge(touch.tally.cell)
    else:
        for ev in touch.events:
            Tally(cell).remove(meter, ev)
    return cell


def _alerts(limit: Limit, key: Key, period: Period, usage: Number | None,
            before: frozenset[int], after: frozenset[int], now: int) -> list[AlertRow]:  # fmt: skip
    """Cleared thresholds (highest first), then crossed ones (lowest first)."""
    subject = key[0] if limit.scope is Scope.SUBJECT else None
    used = usage if usage is not None else 0
    if before == after:
        return []
    moves = [(CLEARED, t) for t in sorted(before - after, reverse=True)]
    moves += [(CROSSED, t) for t in sorted(after - before)]
    start, end = period.start, period.end
    return [
        AlertRow(limit.tenant_id, kind, limit.id, limit.slug, subject, to_number(t), used,
                 limit.value, start, end, now)
        for kind, t in moves
    ]  # fmt: skip


def _load(conn: Connection, limit_id: int, keys: list[Key]) -> dict[Key, Kept]:
    """The kept rows of these keys, in few plain statements (SQLAlchemy's compile of a
    500-value IN list cost more than the query)."""
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    out: dict[Key, Kept] = {}
    wanted = set(keys)
    starts = sorted({p for _, p in keys})
    for part in chunks(sorted({s for s, _ in keys}), 500):
        sql = (
            "SELECT subject, period_start, usage, crossed, cell FROM limit_state "
            f"WHERE limit_id = {mark} AND period_start IN ({', '.join([mark] * len(starts))}) "
            f"AND subject IN ({', '.join([mark] * len(part))})"
        )
        for subject, start, usage, crossed, cell in conn.exec_driver_sql(
            sql, (limit_id, *starts, *part)
        ):
            if (subject, start) in wanted:
                out[(subject, start)] = Kept(
                    usage_from_text(usage),
                    frozenset(orjson.loads(crossed)),
                    None if cell is None else cell_from_text(cell),
                )
    return out


def _carry(conn: Connection, limit_id: int, touches: dict[Key, Touch]) -> dict[str, frozenset[int]]:
    """A rolling limit's crossed thresholds from each subject's other window (the one
    kept before this day's; `_drop_others` removes it once this day's is saved)."""
    c = limit_state.c
    start = next(iter(touches))[1]
    found: dict[str, frozenset[int]] = {}
    for part in chunks(sorted({s for s, _ in touches}), 500):
        query = select(c.subject, c.crossed).where(
            c.limit_id == limit_id, c.subject.in_(part), c.period_start != start
        )
        for subject, crossed in conn.execute(query):
            found[subject] = frozenset(orjson.loads(crossed))
    return found


def _drop_others(conn: Connection, limit_id: int, start: int, subjects: list[str]) -> None:
    """Remove these subjects' rows (and members) of windows other than `start`'s."""
    for table in (limit_state, limit_members):
        for part in chunks(subjects, 500):
            conn.execute(delete(table).where(
                table.c.limit_id == limit_id, table.c.subject.in_(part),
                table.c.period_start != start,
            ))  # fmt: skip


def _save(conn: Connection, rows: dict[Key, tuple[object, ...]]) -> None:
    """Insert or replace the rows of these keys (`_STATE_COLUMNS`), many per statement."""
    insert_values(conn, _STATE_HEAD, list(rows.values()), _STATE_TAIL)


@functools.cache
def _crossed_text(reached: tuple[int, ...]) -> str:
    return orjson.dumps(list(reached)).decode()


# A usage in exact nano-units, for the aggregations that have one (integer compares).
_NANOS_OF: dict[Aggregation, Callable[[Cell], int]] = {
    Aggregation.COUNT: lambda cell: cell.count * NANO,
    Aggregation.SUM: lambda cell: cell.nanos,
}


def _add_members(conn: Connection, limit_id: int, key: Key, values: set[str]) -> int:
    """Add distinct values to a key; returns how many were new."""
    rows = [(limit_id, key[0], key[1], v) for v in sorted(values)]
    return insert_values(conn, _MEMBERS_HEAD, rows, _MEMBERS_TAIL)
