"""Kept limit usage, one row per (meter, subject): the subject's sheet.

A commit moves a few limits for each subject it touches; keeping all of them in one
row per subject writes one row per subject per commit instead of one per (limit,
subject), the cost that dominated ingest with limits. A sheet holds, per limit, the
latest period's entry; older calendar periods move to `limit_state` (the archive)
when a newer one starts, so a late event for them still finds what they counted.

A sheet is JSON: {limit_id: [epoch, [[start, end, usage, crossed, cell], ...]]}. The
epoch is the limit's: redefining a limit bumps it, which retires its entries at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection

from usagekit.core.aggregate import Cell
from usagekit.core.limit_tally import cell_from_list, usage_from_text
from usagekit.core.limits import Limit
from usagekit.core.numbers import Number
from usagekit.store.util import chunks, insert_values

Entry = list[Any]  # [start, end, usage text (None: stale), crossed percents, cell or None]
Sheet = dict[str, list[Any]]  # limit id -> [epoch, entries]

_HEAD = "INSERT INTO limit_sheets (meter_id, subject, sheet, updated_ms)"
_TAIL = (
    "ON CONFLICT (meter_id, subject) DO UPDATE SET sheet = excluded.sheet, "
    "updated_ms = excluded.updated_ms"
)


@dataclass(slots=True)
class Kept:
    """What is kept for one (limit, subject, period)."""

    usage: Number | None
    crossed: frozenset[int]
    cell: Cell | None  # None for unique counts (their members are rows of limit_members)


def load(conn: Connection, meter_id: int, subjects: Iterable[str]) -> dict[str, Sheet]:
    """The sheets of these subjects ('' for tenant-wide limits); missing ones are empty."""
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    wanted = sorted(set(subjects))
    out: dict[str, Sheet] = {s: {} for s in wanted}
    loads = orjson.loads
    for part in chunks(wanted, 500):
        sql = (
            f"SELECT subject, sheet FROM limit_sheets WHERE meter_id = {mark} "
            f"AND subject IN ({', '.join([mark] * len(part))})"
        )
        for subject, text in conn.exec_driver_sql(sql, (meter_id, *part)):
            out[subject] = loads(text)
    return out


def save(conn: Connection, meter_id: int, sheets: dict[str, Sheet], now: int) -> None:
    dumps = orjson.dumps
    rows = [(meter_id, s, dumps(sheet).decode(), now) for s, sheet in sheets.items()]
    insert_values(conn, _HEAD, rows, _TAIL)


def entries(sheet: Sheet, limit: Limit) -> list[Entry]:
    """The limit's current entries in a sheet (none if it was kept before a redefinition)."""
    mine = sheet.get(str(limit.id))
    if mine is None or mine[0] != limit.epoch:
        return []
    found: list[Entry] = mine[1]
    return found


def set_entries(sheet: Sheet, limit: Limit, kept: list[Entry]) -> None:
    sheet[str(limit.id)] = [limit.epoch, kept]


def entry_of(sheet: Sheet, limit: Limit, start: int) -> Entry | None:
    for entry in entries(sheet, limit):
        if entry[0] == start:
            return entry
    return None


def kept_of(entry: Entry) -> Kept:
    _, _, usage, crossed, cell = entry
    return Kept(
        usage_from_text(usage),
        frozenset(crossed),
        None if cell is None else cell_from_list(cell),
    )


def usage_in(sheet_text: str | bytes, limit: Limit, start: int) -> tuple[bool, Number | None]:
    """(found, usage) of one period in a stored sheet."""
    entry = entry_of(orjson.loads(sheet_text), limit, start)
    if entry is None or entry[2] is None:  # None: stale (store.limit_state._staled)
        return False, None
    return True, usage_from_text(entry[2])
