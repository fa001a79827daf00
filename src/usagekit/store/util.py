"""Small helpers shared by the store modules."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import chain
from typing import Any, TypeVar

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


MAX_VARIABLES = 30_000  # SQLite allows 32,766 bound variables per statement
MAX_ROWS = 1000


def insert_values(
    conn: Any, head: str, rows: Sequence[Sequence[Any]], tail: str = "", mark: str = "?"
) -> int:
    """Run `head VALUES (...), (...) tail` for rows, many rows per statement.

    Few large statements rather than executemany's one step per row:
    sqlite3 releases and re-takes the GIL around every step, which makes a busy
    writer thread crawl while request threads parse JSON. PostgreSQL gets one
    array per column instead (store.pg). Returns rows changed.
    """
    if not rows:
        return 0
    if conn.dialect.name == "postgresql":
        from usagekit.store.pg import insert_unnest

        return insert_unnest(conn, head, rows, tail)
    width = len(rows[0])
    one = "(" + ", ".join([mark] * width) + ")"
    changed = start = 0
    for size in statement_sizes(len(rows), min(MAX_ROWS, MAX_VARIABLES // width)):
        sql = f"{head} VALUES {', '.join([one] * size)} {tail}"
        params = tuple(chain.from_iterable(rows[start : start + size]))
        changed += conn.exec_driver_sql(sql, params).rowcount
        start += size
    return changed


def statement_sizes(n: int, most: int) -> Iterator[int]:
    """Rows per statement for n rows: `most` at a time, then the rest in powers of two.

    Few distinct statement texts, so the driver's statement cache keeps them
    prepared: preparing a many-row statement costs twice as much as running it,
    and each new text would also stay cached and hold memory.
    """
    while n >= most:
        yield most
        n -= most
    bit = 1 << n.bit_length()
    while n:
        bit >>= 1
        if n & bit:
            yield bit
            n -= bit
