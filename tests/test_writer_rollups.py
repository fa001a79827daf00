"""Rollups computed where a body is parsed, and the writer's check of them.

The server computes a body's rollups before the writer stores it; the writer
uses them only if every row was new and the meters are still those they were
computed for. Each case is checked against a plain loop over the events.
"""

from __future__ import annotations

from collections.abc import Callable

from usagekit.core.events import Event, parse_record
from usagekit.core.meters import Meter, validate_meter
from usagekit.services.meters import create_meter
from usagekit.services.queries.series import Query
from usagekit.services.queries.spec import build_spec
from usagekit.store import Store, TenantBatch

T0 = 1_788_220_800_000  # 2026-09-01T00:00:00Z


def job(i: int, t: int, cpu: int, project: str = "p1") -> Event:
    return parse_record(
        {
            "id": f"e{i}",
            "type": "job",
            "subject": f"u{i % 3}",
            "time": t,
            "data": {"cpu": cpu, "project": project},
        }
    )


def meter(store: Store, tenant: int, slug: str, aggregation: str, value: str | None) -> Meter:
    made = validate_meter(slug, "job", aggregation, value, {"project": "project"})
    return create_meter(store, tenant, made)


def totals(store: Store, m: Meter) -> dict[tuple[str | None, ...], int | float | None]:
    spec = build_spec(m, str(T0 - 86_400_000), str(T0 + 86_400_000), group_by=["project"])
    return Query(store).total(m, spec)


def by_project(events: list[Event], value: Callable[[Event], int]) -> dict[tuple[str], int]:
    """The oracle: a plain loop adding each event's value to its project."""
    out: dict[tuple[str], int] = {}
    for e in events:
        key = (e.data["project"],)
        out[key] = out.get(key, 0) + value(e)
    return out


def test_precomputed_rollups_of_one_group_take_their_real_seqs(store: Store) -> None:
    tenant = store.accounts.create_tenant("acme").id
    latest = meter(store, tenant, "last_cpu", "latest", "cpu")
    total = meter(store, tenant, "cpu", "sum", "cpu")
    first = [job(1, T0, 5), job(2, T0 + 1000, 7)]
    second = [job(3, T0 + 1000, 9), job(4, T0, 11, "p2")]  # same instant as e2: later seq wins
    batches = [
        TenantBatch.of(tenant, list(enumerate(evs)), meters=[latest, total])
        for evs in (first, second)
    ]
    assert all(b.deltas for b in batches)
    store.events.write(batches)
    events = first + second
    expected_last: dict[tuple[str | None, ...], int] = {}
    for e in sorted(events, key=lambda e: e.time_ms):  # stable: seq order breaks ties
        expected_last[(e.data["project"],)] = e.data["cpu"]
    assert totals(store, latest) == expected_last
    assert totals(store, total) == by_project(events, lambda e: e.data["cpu"])


def test_rollups_computed_for_other_meters_are_computed_again(store: Store) -> None:
    tenant = store.accounts.create_tenant("acme").id
    old = meter(store, tenant, "cpu", "sum", "cpu")
    events = [job(i, T0 + i * 60_000, i + 1, f"p{i % 2}") for i in range(10)]
    stale = TenantBatch.of(tenant, list(enumerate(events)), meters=[old])
    new = meter(store, tenant, "jobs", "count", None)  # made after the body was parsed
    store.events.write([stale])
    assert totals(store, new) == by_project(events, lambda e: 1)
    assert totals(store, old) == by_project(events, lambda e: e.data["cpu"])


def test_a_body_with_stored_rows_has_its_rollups_computed_from_the_new_rows(store: Store) -> None:
    tenant = store.accounts.create_tenant("acme").id
    total = meter(store, tenant, "cpu", "sum", "cpu")
    events = [job(i, T0 + i * 60_000, 10 * i + 1) for i in range(6)]
    store.events.write([TenantBatch.of(tenant, list(enumerate(events[:4])), meters=[total])])
    again = TenantBatch.of(tenant, list(enumerate(events[2:])), meters=[total])
    outcome = store.events.write([again])[0]
    assert (outcome.accepted, outcome.duplicates) == (2, 2)
    assert totals(store, total) == {("p1",): sum(e.data["cpu"] for e in events)}
