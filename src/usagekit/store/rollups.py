"""Rollup cells and distinct rows: merging deltas in, and reading them back for queries."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import BigInteger, Connection, Engine, cast, delete, select, update

from usagekit.core.aggregate import Cell
from usagekit.core.month_bitmaps import LAST_DAY, first_day, month_of_day
from usagekit.core.numbers import LIMB, NANO, join_sum, split_sum
from usagekit.core.rollup import Deltas
from usagekit.core.windows import DAY
from usagekit.store import pg
from usagekit.store.schema import distinct_months, distincts, meter_groups, rollups
from usagekit.store.util import chunks, insert_values

_CELL_COLS = (
    "meter_id, level, bucket, group_id, count, sum_carry, sum_units, sum_nanos, "
    "min_value, max_value, last_time, last_seq, last_value"
)
# A stored sum is (sum_carry * 10**18 + sum_units) * 10**9 + sum_nanos, with
# |sum_units| < 10**18 and |sum_nanos| < 10**9 (core.numbers.split_sum). Adding two
# such parts (and a carry of 1) never leaves 64 bits, so SQLite never turns a sum
# into a float and PostgreSQL never overflows; each addition carries over (SQL's
# integer / and % truncate towards zero on both backends, as split_sum does).
_NANOS = "(rollups.sum_nanos + excluded.sum_nanos)"
_UNITS = f"(rollups.sum_units + excluded.sum_units + {_NANOS} / {NANO})"
_NEWER = "(excluded.last_time, excluded.last_seq) > (rollups.last_time, rollups.last_seq)"
_CELL_HEAD = f"INSERT INTO rollups ({_CELL_COLS})"
_CELL_TAIL = f"""
ON CONFLICT (meter_id, level, bucket, group_id) DO UPDATE SET
  count = rollups.count + excluded.count,
  sum_carry = rollups.sum_carry + excluded.sum_carry + {_UNITS} / {LIMB},
  sum_units = {_UNITS} % {LIMB},
  sum_nanos = {_NANOS} % {NANO},
  min_value = CASE WHEN rollups.min_value IS NULL OR excluded.min_value < rollups.min_value
              THEN excluded.min_value ELSE rollups.min_value END,
  max_value = CASE WHEN rollups.max_value IS NULL OR excluded.max_value > rollups.max_value
              THEN excluded.max_value ELSE rollups.max_value END,
  last_value = CASE WHEN {_NEWER} THEN excluded.last_value ELSE rollups.last_value END,
  last_seq = CASE WHEN {_NEWER} THEN excluded.last_seq ELSE rollups.last_seq END,
  last_time = CASE WHEN {_NEWER} THEN excluded.last_time ELSE rollups.last_time END
"""
_DISTINCT_HEAD = (
    "INSERT INTO distincts (meter_id, level, bucket, group_id, value, first_time, last_time)"
)
_DISTINCT_TAIL = """
ON CONFLICT (meter_id, level, bucket, group_id, value) DO UPDATE SET
  first_time = CASE WHEN excluded.first_time < distincts.first_time
               THEN excluded.first_time ELSE distincts.first_time END,
  last_time = CASE WHEN excluded.last_time > distincts.last_time
              THEN excluded.last_time ELSE distincts.last_time END
"""

_MONTH_HEAD = "INSERT INTO distinct_months (meter_id, group_id, value, month, days)"
_MONTH_TAIL = (
    "ON CONFLICT (meter_id, group_id, value, month) "
    "DO UPDATE SET days = distinct_months.days | excluded.days"
)

# Each part of a sum added up over many cells in SQL, each term below 10**9 in size so that
# SQLite's SUM (which raises on overflow) never overflows.
_SUMS = f"SUM(r.sum_carry), SUM(r.sum_units / {NANO}), SUM(r.sum_units % {NANO}), SUM(r.sum_nanos)"

Piece = tuple[int, int, int, int]  # (elementary index, level, lo, hi)


class Rollups:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        # SQL's % operator, written %% where the driver formats with %s.
        percent = "%" if self.mark == "?" else "%%"
        self.cell_tail = _CELL_TAIL.replace("%", percent)
        self.sums = _SUMS.replace("%", percent)
        self._groups: dict[tuple[int, str], int] = {}

    def forget_groups(self) -> None:
        """Drop cached group ids (after a rollback, or when meters are deleted)."""
        self._groups.clear()

    def group_ids(self, conn: Connection, keys: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
        missing = [k for k in keys if k not in self._groups]
        if missing:
            insert_values(
                conn,
                "INSERT INTO meter_groups (meter_id, key)",
                missing,
                "ON CONFLICT (meter_id, key) DO NOTHING",
                self.mark,
            )
            by_meter: dict[int, list[str]] = {}
            for mid, key in missing:
                by_meter.setdefault(mid, []).append(key)
            for mid, group_keys in by_meter.items():
                for part in chunks(group_keys, 500):
                    rows = conn.execute(
                        select(meter_groups.c.id, meter_groups.c.key).where(
                            meter_groups.c.meter_id == mid, meter_groups.c.key.in_(part)
                        )
                    )
                    for gid, key in rows:
                        self._groups[(mid, key)] = gid
        return self._groups

    def apply(self, conn: Connection, deltas: Deltas) -> None:
        """Merge a batch's deltas into the stored rollups, inside the caller's transaction."""
        if not deltas:
            return
        keys = {(k[0], k[3]) for k in deltas.cells} | {(k[0], k[3]) for k in deltas.distinct}
        ids = self.group_ids(conn, keys)
        if deltas.cells:
            rows = []
            for (mid, level, bucket, group), c in deltas.cells.items():
                carry, units, nanos = split_sum(c.nanos)
                rows.append(
                    (
                        mid,
                        level,
                        bucket,
                        ids[(mid, group)],
                        c.count,
                        carry,
                        units,
                        nanos,
                        c.min,
                        c.max,
                        c.last_time,
                        c.last_seq,
                        c.last,
                    )
                )
            insert_values(conn, _CELL_HEAD, rows, self.cell_tail, self.mark)
        if deltas.months:
            mrows = [
                (mid, ids[(mid, group)], value, month, bits)
                for (mid, month, group, value), bits in deltas.months.items()
            ]
            insert_values(conn, _MONTH_HEAD, mrows, _MONTH_TAIL, self.mark)
        if deltas.distinct:
            drows = [
                (mid, level, bucket, ids[(mid, group)], value, span[0], span[1])
                for (mid, level, bucket, group, value), span in deltas.distinct.items()
            ]
            insert_values(conn, _DISTINCT_HEAD, drows, _DISTINCT_TAIL, self.mark)

    def clear(self, conn: Connection, meter_id: int, lo: int, hi: int) -> None:
        """Delete a meter's cells and distinct rows with buckets in [lo, hi)."""
        for table in (rollups, distincts):
            conn.execute(
                delete(table).where(
                    table.c.meter_id == meter_id, table.c.bucket >= lo, table.c.bucket < hi
                )
            )
        self._clear_months(conn, meter_id, lo // DAY, min(hi // DAY, LAST_DAY + 1))

    def _clear_months(self, conn: Connection, meter_id: int, lo_day: int, hi_day: int) -> None:
        """Clear the day bits of days [lo_day, hi_day): whole months go, partial ones are masked."""
        if lo_day >= hi_day:
            return
        m = distinct_months.c
        first, last = month_of_day(lo_day), month_of_day(hi_day - 1)
        whole_from = first if first_day(first) >= lo_day else first + 1
        whole_to = last if first_day(last + 1) <= hi_day else last - 1
        if whole_from <= whole_to:
            conn.execute(
                delete(distinct_months).where(
                    m.meter_id == meter_id, m.month >= whole_from, m.month <= whole_to
                )
            )
        for month in {first, last} - set(range(whole_from, whole_to + 1)):
            start = first_day(month)
            keep = 0
            for day in range(start, first_day(month + 1)):
                if not lo_day <= day < hi_day:
                    keep |= 1 << (day - start)
            conn.execute(
                update(distinct_months)
                .where(m.meter_id == meter_id, m.month == month)
                .values(days=m.days.op("&")(keep))
            )
            conn.execute(
                delete(distinct_months).where(m.meter_id == meter_id, m.month == month, m.days == 0)
            )

    def month_chunks(
        self, meter_id: int, first: int, last: int, group_ids: Sequence[int] | None
    ) -> Iterator[list[tuple[int, str, int]]]:
        """(group_id, value, month << 32 | day bits) for months [first, last], by group and value.

        In lists of up to 50,000 rows, which the caller turns into columns at once; month
        and bits come as one integer, as a third fewer Python objects to build per row.
        """
        m = distinct_months.c
        packed = cast(m.month, BigInteger) * (1 << 32) + m.days  # days < 2**31
        query = select(m.group_id, m.value, packed).where(
            m.meter_id == meter_id, m.month >= first, m.month <= last
        )
        if group_ids is not None:
            query = query.where(m.group_id.in_(list(group_ids)))
        query = query.order_by(m.group_id, m.value, m.month)
        with self.engine.connect() as conn:
            cursor = conn.execute(query).cursor
            assert cursor is not None
            while rows := cursor.fetchmany(50_000):
                yield list(rows)

    def cells(
        self,
        meter_id: int,
        pieces: Sequence[Piece],
        group_ids: Sequence[int] | None,
        latest: bool,
    ) -> dict[tuple[int, int], Cell]:
        """Merged cells per (elementary index, group id) for the given rollup pieces."""
        out: dict[tuple[int, int], Cell] = {}
        if not pieces:
            return out
        where_groups = ""
        params: list[Any] = []
        if group_ids is not None:
            if not group_ids:
                return out
            where_groups = f" AND r.group_id IN ({', '.join([self.mark] * len(group_ids))})"
        with self.engine.connect() as conn:
            for part in chunks(pieces, 400):
                values = ", ".join(
                    [f"({self.mark}, {self.mark}, {self.mark}, {self.mark})"] * len(part)
                )
                params = [v for piece in part for v in piece] + [meter_id]
                params += list(group_ids or ())
                head = f"WITH pieces(idx, level, lo, hi) AS (VALUES {values}) "
                join_on = (
                    pg.PIECES_JOIN
                    if self.engine.dialect.name == "postgresql"
                    else f"FROM pieces p JOIN rollups r ON r.meter_id = {self.mark} "
                    "AND r.level = p.level AND r.bucket >= p.lo AND r.bucket < p.hi"
                ) + where_groups
                sql = (
                    head + "SELECT p.idx, r.group_id, SUM(r.count), " + self.sums + ", "
                    "MIN(r.min_value), MAX(r.max_value) " + join_on + " GROUP BY p.idx, r.group_id"
                )
                for idx, gid, count, carry, hi, lo, nanos, mn, mx in _rows(conn, sql, params):
                    cell = out.get((idx, gid))
                    units = int(hi) * NANO + int(lo)
                    add = Cell(int(count), join_sum(int(carry), units, int(nanos)), mn, mx)
                    if cell is None:
                        out[(idx, gid)] = add
                    else:
                        cell.merge(add)
                if latest:
                    sql = (
                        head
                        + "SELECT p.idx, r.group_id, r.last_time, r.last_seq, r.last_value "
                        + join_on
                        + " AND r.last_value IS NOT NULL"
                    )
                    for idx, gid, lt, ls, lv in _rows(conn, sql, params):
                        out[(idx, gid)].merge(Cell(0, 0, None, None, lt, ls, lv))
        return out

    def distinct_rows(
        self, meter_id: int, level: int, lo: int, hi: int, group_ids: Sequence[int] | None
    ) -> Iterator[tuple[int, int, str, int, int]]:
        """(bucket, group_id, value, first_time, last_time) for buckets in [lo, hi)."""
        d = distincts.c
        query = select(d.bucket, d.group_id, d.value, d.first_time, d.last_time).where(
            d.meter_id == meter_id, d.level == level, d.bucket >= lo, d.bucket < hi
        )
        if group_ids is not None:
            query = query.where(d.group_id.in_(list(group_ids)))
        with self.engine.connect() as conn:
            for row in conn.execute(query).yield_per(10_000):
                yield row[0], row[1], row[2], row[3], row[4]


def _rows(conn: Connection, sql: str, params: list[Any]) -> list[Any]:
    """All rows as plain DBAPI tuples: skips SQLAlchemy's per-row wrapping on hot reads."""
    cursor = conn.exec_driver_sql(sql, tuple(params)).cursor
    assert cursor is not None
    return list(cursor.fetchall())
