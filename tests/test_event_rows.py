"""Ingest rows are named tuples that survive the trip to the writer process intact."""

from __future__ import annotations

import pickle

from usagekit.core.events import parse_record
from usagekit.core.meters import validate_meter
from usagekit.core.records import NewFailure
from usagekit.store import Store, TenantBatch
from usagekit.store.rows import Content, EventRow, Repeat

T0 = 1_788_220_800_000  # 2026-09-01T00:00:00Z


def record(i: int, cpu: int) -> dict[str, object]:
    return {"id": f"e{i}", "type": "job", "subject": f"u{i}", "time": T0 + i, "data": {"cpu": cpu}}


def test_a_batch_pickles_with_its_rows_named_and_every_field_kept(store: Store) -> None:
    tenant = store.accounts.create_tenant("acme").id
    meter = store.create_meter(tenant, validate_meter("cpu", "job", "sum", "cpu", {}))
    sent = [record(0, 5), record(1, 7), record(0, 9), record(2, 1)]  # e0 twice, differently
    items = [(k, parse_record(r)) for k, r in enumerate(sent)]
    failure = NewFailure("bad", {"id": "x"}, "events", "u9")
    batch = TenantBatch.of(tenant, items, [failure], meters=[meter], failure_cap=10)

    copy = pickle.loads(pickle.dumps(batch, pickle.HIGHEST_PROTOCOL))

    assert copy == batch
    assert all(type(row) is EventRow for row in copy.rows)
    assert [(r.position, r.id, r.subject) for r in copy.rows] == [
        (0, "e0", "u0"),
        (1, "e1", "u1"),
        (3, "e2", "u2"),
    ]
    [repeat] = copy.repeats
    assert type(repeat) is Repeat and type(repeat.row) is EventRow
    assert (repeat.row.position, repeat.first) == (2, 0)
    assert repeat.row.content != copy.rows[0].content  # a conflict, judged by content
    assert copy.rows[0].content == Content("job", "u0", T0, '{"cpu":5}')


def test_repeats_are_judged_by_content_and_counted_per_hour(store: Store) -> None:
    tenant = store.accounts.create_tenant("acme").id
    sent = [record(0, 5), record(0, 5), record(0, 6), record(1, 1)]
    items = [(k, parse_record(r)) for k, r in enumerate(sent)]
    [outcome] = store.events.write([TenantBatch.of(tenant, items)])
    # Independently: first sight of each id is stored, same content again is a duplicate.
    first: dict[object, dict[str, object]] = {}
    accepted = duplicates = 0
    conflicts: list[tuple[int, object]] = []
    for k, r in enumerate(sent):
        if r["id"] not in first:
            first[r["id"]] = r
            accepted += 1
        elif first[r["id"]] == r:
            duplicates += 1
        else:
            conflicts.append((k, r["id"]))
    assert (outcome.accepted, outcome.duplicates, outcome.conflicts) == (
        accepted,
        duplicates,
        conflicts,
    )
    [hour] = store.ingest_stats.hours(tenant, 0, 2**62)
    counted = (hour.accepted, hour.duplicates, hour.conflicts, hour.rejected)
    assert counted == (accepted, duplicates, len(conflicts), 0)
