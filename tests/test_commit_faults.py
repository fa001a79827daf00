"""A group commit that fails part-way is retried body by body, and counts each event once.

The fault is raised by the database driver's hook at one statement of the shared
transaction (the ingest counters, the rollup upsert, or COMMIT itself), once; the
writer then stores each body alone. Every rollup row must then equal what
`rebuild` computes from the stored events, and each meter's total a plain loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from usagekit.core.events import Event, parse_record
from usagekit.core.meters import Meter, validate_meter
from usagekit.services.ingest import IngestJob, commit_group
from usagekit.services.meters import create_meter
from usagekit.services.queries.series import Query
from usagekit.services.queries.spec import build_spec
from usagekit.store import BatchOutcome, Store, TenantBatch
from usagekit.store.schema import distinct_months, distincts, ingest_stats, meter_groups, rollups

T0 = 1_788_220_800_000  # 2026-09-01T00:00:00Z


class InjectedFault(Exception):
    """What the hook raises in place of the database."""


@contextmanager
def fail_once(engine: Engine, at: str) -> Iterator[list[str]]:
    """Make the first statement starting with `at` (or the first COMMIT) raise; yields hits."""
    hits: list[str] = []

    def on_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not hits and statement.lstrip().upper().startswith(at):
            hits.append(statement)
            raise InjectedFault(at)

    def on_commit(conn: Any) -> None:
        if not hits:
            hits.append("COMMIT")
            raise InjectedFault(at)

    if at == "COMMIT":
        event.listen(engine, "commit", on_commit)
    else:
        event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield hits
    finally:
        if at == "COMMIT":
            event.remove(engine, "commit", on_commit)
        else:
            event.remove(engine, "before_cursor_execute", on_execute)


def job_event(i: int, project: str) -> Event:
    return parse_record(
        {
            "id": f"e{i}",
            "type": "job",
            "subject": f"u{i % 4}",
            "time": T0 + (i % 7) * 600_000,  # a handful of shared quarters: cells merge
            "data": {"cpu": 1000 + i, "project": project},
        }
    )


def make_meters(store: Store, tenant: int) -> list[Meter]:
    specs = [("cpu", "sum", "cpu"), ("jobs", "count", None), ("last_cpu", "latest", "cpu")]
    made = [
        create_meter(store, tenant, validate_meter(slug, "job", agg, value, {"project": "project"}))
        for slug, agg, value in specs
    ]
    unique = validate_meter("users", "job", "unique_count", None, {"project": "project"})
    return [*made, create_meter(store, tenant, unique)]


def rollup_rows(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every rollup, distinct and month row, keyed by group key rather than group id."""
    g = meter_groups.c
    out: dict[str, list[tuple[Any, ...]]] = {}
    with store.engine.connect() as conn:
        for table in (rollups, distincts, distinct_months):
            cols = [c for c in table.c if c.name != "group_id"]
            query = select(g.key, *cols).join(meter_groups, g.id == table.c.group_id)
            out[table.name] = sorted(tuple(r) for r in conn.execute(query))
    return out


def oracle(events: list[Event]) -> dict[str, dict[tuple[str | None, ...], Any]]:
    """Each meter's totals by project, from a plain loop over the events."""
    cpu: dict[tuple[str | None, ...], Any] = {}
    jobs: dict[tuple[str | None, ...], Any] = {}
    users: dict[tuple[str | None, ...], set[str]] = {}
    last: dict[tuple[str | None, ...], tuple[int, int, Any]] = {}
    for seq, e in enumerate(events):
        key = (e.data["project"],)
        cpu[key] = cpu.get(key, 0) + e.data["cpu"]
        jobs[key] = jobs.get(key, 0) + 1
        users.setdefault(key, set()).add(e.subject)
        if key not in last or (e.time_ms, seq) > last[key][:2]:
            last[key] = (e.time_ms, seq, e.data["cpu"])
    return {
        "cpu": cpu,
        "jobs": jobs,
        "users": {k: len(v) for k, v in users.items()},
        "last_cpu": {k: v[2] for k, v in last.items()},
    }


@pytest.mark.parametrize("at", ["INSERT INTO INGEST_STATS", "INSERT INTO ROLLUPS", "COMMIT"])
def test_a_group_commit_failing_at_any_statement_counts_each_event_once(
    store: Store, at: str
) -> None:
    tenant = store.accounts.create_tenant("acme").id
    meters = make_meters(store, tenant)
    bodies = [[job_event(10 * b + i, f"p{i % 2}") for i in range(8)] for b in range(4)]
    jobs = [
        IngestJob(TenantBatch.of(tenant, list(enumerate(body)), meters=meters)) for body in bodies
    ]
    with fail_once(store.engine, at) as hits:
        replies = commit_group(store, jobs)
    assert hits, f"the fault at {at} never fired"
    assert [r.accepted for r in replies if isinstance(r, BatchOutcome)] == [8, 8, 8, 8]

    stored = [e for body in bodies for e in body]
    query = Query(store)
    expected = oracle(stored)
    for m in meters:
        spec = build_spec(m, str(T0 - 86_400_000), str(T0 + 86_400_000), group_by=["project"])
        assert query.total(m, spec) == expected[m.slug], m.slug

    after_fault = rollup_rows(store)
    store.rebuild(tenant)
    assert rollup_rows(store) == after_fault

    with store.engine.connect() as conn:
        accepted = conn.execute(select(ingest_stats.c.accepted)).scalars().all()
    assert sum(accepted) == len(stored)
