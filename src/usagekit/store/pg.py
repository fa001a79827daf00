"""PostgreSQL-only SQL: rows written as one array per column, and lookups no plan can ruin.

Writes: INSERT ... SELECT * FROM unnest(...). A multi-row VALUES statement of
1,000 rows carries 10,000 placeholders that psycopg splits and PostgreSQL parses
and plans on every execution; one array per column is ten parameters whatever
the row count. Each array goes as a text literal built in C (str.join, orjson)
rather than by psycopg's per-element list dumper, which cost about 10 ms of
writer CPU per 1,000 events.

Reads: the planner without fresh statistics (a new or fast-growing database)
turned an IN list and a range join into scans; the forms below cannot.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

import orjson
from sqlalchemy import Connection, Float, String
from sqlalchemy.dialects import postgresql

from usagekit.store.rows import Content
from usagekit.store.schema import metadata
from usagekit.store.util import chunks

_HEAD = re.compile(r"\s*INSERT INTO (\w+) \(([^)]*)\)\s*$")
_CONTROL = re.compile(r"[\x00-\x1f]")  # JSON escapes these as \n, \u0001: not array syntax
_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]
MAX_ROWS = 20_000


FLOAT, TEXT, INT = "float", "text", "int"


@cache
def _columns(head: str) -> tuple[str, tuple[str, ...]]:
    """`INSERT INTO t (cols) SELECT * FROM unnest(%s::type[], ...)` and each column's kind."""
    match = _HEAD.match(head)
    if match is None:
        raise ValueError(f"not an 'INSERT INTO table (columns)' head: {head!r}")
    table = metadata.tables[match[1]]
    names = [name.strip() for name in match[2].split(",")]
    types = [table.c[name].type for name in names]
    arrays = ", ".join(f"%s::{t.compile(dialect=_DIALECT)}[]" for t in types)
    kinds = tuple(
        FLOAT if isinstance(t, Float) else TEXT if isinstance(t, String) else INT for t in types
    )
    return f"{head} SELECT * FROM unnest({arrays})", kinds


def array_literal(values: list[Any], kind: str) -> Any:
    """A PostgreSQL array literal of the values (or the list itself where text needs escapes)."""
    if kind == TEXT:
        if _CONTROL.search("".join(v for v in values if v is not None)):
            return values  # psycopg's own dumper escapes what JSON's escapes would get wrong
        # A JSON array of strings is an array literal between braces: "..." with \" and \\.
        return "{" + orjson.dumps(values).decode()[1:-1] + "}"
    if kind == FLOAT:
        values = [v if v is None else float(v) for v in values]
    if None in values:
        return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"
    return "{" + ",".join(map(str, values)) + "}"


def insert_unnest(conn: Connection, head: str, rows: Sequence[Sequence[Any]], tail: str) -> int:
    """Run `head` with the rows as one array per column, then `tail`; returns rows changed."""
    sql, kinds = _columns(head)
    changed = 0
    for part in chunks(rows, MAX_ROWS):
        arrays = tuple(
            array_literal(list(c), kind)
            for c, kind in zip(zip(*part, strict=True), kinds, strict=True)
        )
        changed += conn.exec_driver_sql(f"{sql} {tail}", arrays).rowcount
    return changed


# Rollup cells of each query piece by a range scan of the primary key. As a plain join
# the planner, unable to estimate range conditions against a VALUES list, hashed a
# sequential scan of the meter's whole rollups (25-40 ms at 300k events, not 2 ms);
# OFFSET 0 keeps the subquery from being flattened back into that join.
PIECES_JOIN = (
    "FROM pieces p CROSS JOIN LATERAL (SELECT * FROM rollups r WHERE r.meter_id = %s "
    "AND r.level = p.level AND r.bucket >= p.lo AND r.bucket < p.hi OFFSET 0) r WHERE TRUE"
)

_KEPT = (
    "SELECT k.id, e.type, e.subject, e.time_ms, e.data FROM unnest(%s::text[]) AS k(id) "
    "CROSS JOIN LATERAL (SELECT type, subject, time_ms, data FROM events "
    "WHERE tenant_id = %s AND source = %s AND event_id = k.id LIMIT 1) AS e"
)


def kept(
    conn: Connection, tenant_id: int, ids_by_source: dict[str, list[str]]
) -> dict[tuple[str, str], Content]:
    """The stored (type, subject, time_ms, data) of these keys: one unique-index probe per key
    (LIMIT 1 keeps the subquery from being flattened into a join the planner may hash).

    An IN list lets the planner scan the tenant's whole (tenant, source) range and
    filter, which it does while the table's statistics are young (a fresh or fast-
    growing table): re-sent batches then ran at about 1,000 events/s.
    """
    out: dict[tuple[str, str], Content] = {}
    for source, ids in ids_by_source.items():
        params = (array_literal(ids, TEXT), tenant_id, source)
        cursor = conn.exec_driver_sql(_KEPT, params).cursor
        assert cursor is not None
        for eid, typ, subj, t, data in cursor.fetchall():
            out[(source, eid)] = Content(typ, subj, t, data)
    return out
