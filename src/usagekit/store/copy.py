"""Copy a whole deployment between databases (e.g. SQLite -> PostgreSQL), table by table.

Rows keep their ids, so keys, meters, events (with their sequence numbers) and
rollups arrive as they were; identity sequences are moved past the copied ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy import Engine, Table, func, insert, select, text, tuple_

from usagekit.store.schema import metadata

BATCH = 5_000


class TargetNotEmpty(ValueError):
    """The target already holds data; copying into it would mix two deployments."""


def tables() -> list[Table]:
    return list(metadata.sorted_tables)


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in tables()
        }


def _pages(engine: Engine, table: Table) -> Iterator[list[dict[str, object]]]:
    """The table's rows in primary-key order, a batch at a time (keyset paging)."""
    keys = list(table.primary_key.columns)
    after: tuple[object, ...] | None = None
    while True:
        query = select(table).order_by(*keys).limit(BATCH)
        if after is not None:
            query = query.where(tuple_(*keys) > tuple_(*after))
        with engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        if not rows:
            return
        yield rows
        after = tuple(rows[-1][k.name] for k in keys)


def copy_all(source: Engine, target: Engine, progress: Callable[[str, int], None]) -> None:
    """Copy every table; `progress(table, rows)` is called after each batch."""
    if any(row_counts(target).values()):
        raise TargetNotEmpty("the target database already has data; copy into an empty one")
    with target.begin() as out:
        for table in tables():
            for rows in _pages(source, table):
                out.execute(insert(table), rows)
                progress(table.name, len(rows))
        if target.dialect.name == "postgresql":
            for table in tables():
                for column in table.primary_key.columns:
                    if column.autoincrement is True:
                        out.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                                f"'{column.name}'), COALESCE(MAX({column.name}), 0) + 1, false) "
                                f"FROM {table.name}"
                            )
                        )
    if target.dialect.name == "postgresql":
        # Fresh statistics, as autovacuum would gather later: a planner that thinks
        # the tables are empty picks plans (sorting a tenant's events) that crawl.
        with target.connect() as conn:
            conn.exec_driver_sql("ANALYZE " + ", ".join(t.name for t in tables()))
            conn.commit()
