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
from collections import Counter
from collections.abc import Callable, Sequence

import orjson
from sqlalchemy import Connection, delete

from usagekit.core.aggregate import Cell
from usagekit.core.limit_periods import ROLLING_DAYS, Period
from usagekit.core.limit_tally import (
    Tally,
    cell_from_list,
    cell_list,
    passes,
    subtractable,
    usage_from_text,
    usage_of,
    usage_text,
)
from usagekit.core.limit_touches import Items, Key, MeterRows, Touch, period_at, spans, touches
from usagekit.core.limits import Limit, Scope, least_reaching, reached, reached_nanos
from usagekit.core.meters import Aggregation, Meter
from usagekit.core.numbers import NANO, Number, to_number
from usagekit.core.windows import zone
from usagekit.store import limit_sheets
from usagekit.store.alerts import CLEARED, CROSSED, AlertRow, record
from usagekit.store.event_reads import EventReads
from usagekit.store.limit_sheets import Entry, Kept, Sheet, entries, kept_of, set_entries
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
        moved: dict[int, dict[Key, Touch]] = {}
        found: dict[int, list[AlertRow]] = {}  # alerts by limit
        for meter in meters:
            mine = [limit for limit in limits if limit.meter_id == meter.id]
            if mine:
                rows = MeterRows.read(meter, items)
                for limit in mine:
                    moved[limit.id] = touches(limit, meter, rows, now, voided)
                found.update(self._meter(conn, meter, rows, mine, moved, now, voided))
        return record(conn, [alert for limit in limits for alert in found.get(limit.id, [])])

    def _meter(self, conn: Connection, meter: Meter, rows: MeterRows, limits: list[Limit],
               moved: dict[int, dict[Key, Touch]], now: int,
               voided: bool) -> dict[int, list[AlertRow]]:  # fmt: skip
        """Apply one meter's touches to the sheets of the subjects they touch."""
        subjects = {subject for limit in limits for subject, _ in moved[limit.id]}
        outside = {limit.id: spans(limit, meter, rows) for limit in limits
                   if limit.period in ROLLING_DAYS}  # fmt: skip
        wanted = subjects.union(*outside.values())
        if not wanted:
            return {}
        sheets = limit_sheets.load(conn, meter.id, wanted)
        archive: list[tuple[object, ...]] = []
        alerts = {
            limit.id: self._apply(conn, limit, meter, moved[limit.id], sheets, archive, now, voided)
            for limit in limits
            if moved[limit.id]
        }
        for limit in limits:
            if limit.id in outside:
                subjects |= _staled(conn, limit, meter, now, outside[limit.id], sheets)
        current = {str(limit.id) for limit in limits}
        for sheet in sheets.values():
            for gone in [lid for lid in sheet if lid not in current]:
                del sheet[gone]  # the limit was deleted
        limit_sheets.save(conn, meter.id, {s: sheets[s] for s in subjects}, now)
        insert_values(conn, _STATE_HEAD, archive, _STATE_TAIL)
        return alerts

    # -- one limit ---------------------------------------------------------------------------

    def _apply(self, conn: Connection, limit: Limit, meter: Meter, touches: dict[Key, Touch],
               sheets: dict[str, Sheet], archive: list[tuple[object, ...]], now: int,
               voided: bool) -> list[AlertRow]:  # fmt: skip
        moves: list[tuple[Key, list[AlertRow]]] = []
        if not voided and meter.aggregation in _NANOS_OF:
            touches = _steady(limit, meter, touches, sheets, archive, moves, now)
        kept, carried, archived, stale = _kept(conn, limit, touches, sheets)
        before = {k: kept[k].crossed if k in kept else carried.get(k[0], frozenset())
                  for k in touches}  # fmt: skip
        # A key not kept yet is counted whole: from what came before this commit, where
        # anything can have (`may_have_past`), and this commit's events.
        past = [k for k in touches if k not in kept and (not voided or before[k] or k in stale)
                and self.may_have_past(limit, touches[k].period)]  # fmt: skip
        unique = meter.aggregation is Aggregation.UNIQUE_COUNT
        resum = voided and (unique or not subtractable(meter))
        recount = [k for k in touches if k in kept and resum]
        whole = self._whole(conn, limit, meter, touches, past, recount, voided)
        nanos_of = _NANOS_OF.get(meter.aggregation)
        rolling = limit.period in ROLLING_DAYS
        slid: list[str] = []  # subjects whose rolling window moved on to this day's
        updated: dict[str, list[Entry]] = {}  # new entries of keys kept in sheets
        for key, touch in touches.items():
            state = kept.get(key)
            if state is None and voided and not before[key] and key not in stale:
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
            entry: Entry = [key[1], touch.period.end, usage_text(usage), list(after),
                            None if cell is None else cell_list(cell)]  # fmt: skip
            if key in archived:
                archive.append(_archived(limit, key[0], entry, now))
            else:
                updated.setdefault(key[0], []).append(entry)
        for subject, new in updated.items():
            sheet = sheets[subject]
            if rolling:  # the commit day's window replaces the subject's other one
                if any(e[0] != new[0][0] for e in entries(sheet, limit)):
                    slid.append(subject)
                set_entries(sheet, limit, new)
                continue
            mine = {e[0]: e for e in entries(sheet, limit)} | {e[0]: e for e in new}
            latest = max(mine)  # older calendar periods move to the archive
            archive += [_archived(limit, subject, e, now) for s, e in mine.items() if s < latest]
            set_entries(sheet, limit, [mine[latest]])
        if slid and unique:
            _drop_others(conn, limit.id, next(iter(touches))[1], sorted(slid))
        moves.sort(key=lambda move: move[0])
        return [alert for _, some in moves for alert in some]

    @staticmethod
    def may_have_past(limit: Limit, period: Period) -> bool:
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
        if state is not None:
            _drop_members(conn, limit_id, key[0], key[1])
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
                    None if cell is None else cell_from_list(orjson.loads(cell)),
                )
    return out


def _drop_others(conn: Connection, limit_id: int, start: int, subjects: list[str]) -> None:
    """Remove these subjects' rows (and members) of windows other than `start`'s."""
    for table in (limit_state, limit_members):
        for part in chunks(subjects, 500):
            conn.execute(delete(table).where(
                table.c.limit_id == limit_id, table.c.subject.in_(part),
                table.c.period_start != start,
            ))  # fmt: skip


def _steady(limit: Limit, meter: Meter, touches: dict[Key, Touch], sheets: dict[str, Sheet],
            archive: list[tuple[object, ...]], moves: list[tuple[Key, list[AlertRow]]],
            now: int) -> dict[Key, Touch]:  # fmt: skip
    """Counts and sums of the keys most commits move, in place: a period the subject's
    sheet keeps, or a calendar period after it that no earlier event can be in (the
    sheet's entry then moves to the archive). Returns the other keys.

    The general path gives the same entries through Kept and Cell objects; this one
    compares thresholds only once usage reaches the lowest."""
    lid, epoch = str(limit.id), limit.epoch
    counting = meter.aggregation is Aggregation.COUNT
    rolling = limit.period in ROLLING_DAYS
    lowest = least_reaching(limit)
    keys_of = Counter(subject for subject, _ in touches)
    rest: dict[Key, Touch] = {}
    for key, touch in touches.items():
        sheet = sheets[key[0]]
        mine = sheet.get(lid)
        entry = mine[1][0] if mine is not None and mine[0] == epoch else None
        add = touch.tally.cell
        if keys_of[key[0]] > 1:
            rest[key] = touch  # several periods of one subject: the general path orders them
            continue
        if entry is not None and entry[0] == key[1] and entry[2] is not None:
            cell = entry[4]
            count, nanos = cell[0] + add.count, int(cell[1]) + add.nanos
            cell[0], cell[1] = count, str(nanos)
        elif (
            not rolling
            and (entry is None or entry[0] < key[1])
            and not (LimitKeeper.may_have_past(limit, touch.period))
        ):
            if entry is not None:
                archive.append(_archived(limit, key[0], entry, now))
            count, nanos = add.count, add.nanos
            entry = [key[1], touch.period.end, "", [], cell_list(add)]
            set_entries(sheet, limit, [entry])
        else:
            rest[key] = touch
            continue
        used = count * NANO if counting else nanos
        usage = count if counting else to_number(nanos)
        entry[2] = usage_text(usage)
        if entry[3] or (lowest is not None and used >= lowest):
            after = list(reached_nanos(limit, used))
            if after != entry[3]:
                crossed, before = frozenset(after), frozenset(entry[3])
                moves.append((key, _alerts(limit, key, touch.period, usage, before, crossed, now)))
                entry[3] = after
    return rest


def _staled(conn: Connection, limit: Limit, meter: Meter, now: int,
            moved: dict[str, tuple[int, int]], sheets: dict[str, Sheet]) -> set[str]:  # fmt: skip
    """Mark stale the rolling windows kept at another time that this commit's events (in
    `moved` spans) may fall in but that it did not count them into (it moves the window
    of its own day): their usage is recounted when next moved, or read by the query
    engine, and the thresholds they crossed carry over. Returns the subjects marked."""
    window = period_at(limit, zone(limit.tz), now)
    marked: set[str] = set()
    for subject, (lo, hi) in moved.items():
        mine = entries(sheets[subject], limit)
        if not mine or mine[0][2] is None or (window is not None and mine[0][0] == window.start):
            continue
        start, end = mine[0][0], mine[0][1]
        if lo < end and start <= hi:
            mine[0][2] = None
            marked.add(subject)
            if meter.aggregation is Aggregation.UNIQUE_COUNT:
                _drop_members(conn, limit.id, subject, start)
    return marked


def _kept(conn: Connection, limit: Limit, touches: dict[Key, Touch], sheets: dict[str, Sheet]
          ) -> tuple[dict[Key, Kept], dict[str, frozenset[int]], set[Key], set[Key]]:  # fmt: skip
    """What is kept for the touched keys: from the sheets, or for calendar periods older
    than a subject's latest, from the archive; a rolling limit's thresholds crossed in
    the subject's previous (or stale) window, carried over; which keys are archived; and
    which are stale (`_staled`: recounted whatever moves them)."""
    kept: dict[Key, Kept] = {}
    carried: dict[str, frozenset[int]] = {}
    older: list[Key] = []
    stale: set[Key] = set()
    rolling = limit.period in ROLLING_DAYS
    for key in touches:
        subject, start = key
        mine = entries(sheets[subject], limit)
        if not mine:
            continue
        latest = mine[0]  # one entry a limit: the latest period the subject was counted in
        if latest[0] == start and latest[2] is not None:
            kept[key] = kept_of(latest)
        elif rolling:
            carried[subject] = frozenset(latest[3])
            if latest[0] == start:
                stale.add(key)
        elif start < latest[0]:
            older.append(key)
    if older:
        kept.update(_load(conn, limit.id, older))
    return kept, carried, set(older), stale


def _archived(limit: Limit, subject: str, entry: Entry, now: int) -> tuple[object, ...]:
    """A limit_state row of a sheet entry."""
    start, end, usage, crossed, cell = entry
    text = None if cell is None else orjson.dumps(cell).decode()
    return (limit.id, subject, start, end, usage, _crossed_text(tuple(crossed)), now, text)


@functools.cache
def _crossed_text(reached: tuple[int, ...]) -> str:
    return orjson.dumps(list(reached)).decode()


# A usage in exact nano-units, for the aggregations that have one (integer compares).
_NANOS_OF: dict[Aggregation, Callable[[Cell], int]] = {
    Aggregation.COUNT: lambda cell: cell.count * NANO,
    Aggregation.SUM: lambda cell: cell.nanos,
}


def _drop_members(conn: Connection, limit_id: int, subject: str, start: int) -> None:
    m = limit_members.c
    conn.execute(delete(limit_members).where(
        m.limit_id == limit_id, m.subject == subject, m.period_start == start
    ))  # fmt: skip


def _add_members(conn: Connection, limit_id: int, key: Key, values: set[str]) -> int:
    """Add distinct values to a key; returns how many were new."""
    rows = [(limit_id, key[0], key[1], v) for v in sorted(values)]
    return insert_values(conn, _MEMBERS_HEAD, rows, _MEMBERS_TAIL)
