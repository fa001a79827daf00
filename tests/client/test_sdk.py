"""The sync SDK against the real app (both store backends): every method of the native API."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.client.conftest import Connect
from usagekit import Client
from usagekit.client import Event
from usagekit.errors import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)

START = datetime(2026, 10, 1, tzinfo=UTC)


def jobs(n: int, prefix: str = "job") -> list[dict[str, Any]]:
    """n job events over ten days, two projects, CPU time i ms."""
    return [
        {
            "id": f"{prefix}-{i}",
            "source": "slurm",
            "type": "job",
            "subject": f"user-{i % 7}",
            "time": START + timedelta(minutes=17 * i),
            "data": {"cpu_ms": i, "project": f"p{i % 2}"},
        }
        for i in range(n)
    ]


def daily_sums(events: list[dict[str, Any]]) -> dict[tuple[date, str], int]:
    """The independent computation: per UTC day and project, the sum of cpu_ms."""
    out: dict[tuple[date, str], int] = defaultdict(int)
    for e in events:
        out[(e["time"].date(), e["data"]["project"])] += e["data"]["cpu_ms"]
    return out


def test_send_chunks_and_reports_by_the_callers_index(sdk: Client) -> None:
    sdk.create_meter(
        "cpu", "job", "sum", value_property="cpu_ms", dimensions={"project": "project"}
    )
    events: list[Any] = jobs(500)
    events[10] = {"id": "broken", "type": "job"}  # no subject, no time
    events[20] = {**events[20], "data": {"cpu_ms": {1, 2}}}  # a set is not JSON... (sent as list)
    events[30] = {**events[30], "data": {"blob": object()}}  # not serialisable at all
    events[40] = {**events[40], "data": {"pad": "x" * 5000}}  # larger than a body on its own
    progress: list[int] = []
    result = sdk.send(events, max_body_bytes=4096, on_progress=progress.append)
    assert result.requests > 10  # chunked
    assert [r.index for r in result.rejected] == [10, 30, 40]
    assert result.rejected[0].record is events[10]
    assert "subject" in result.rejected[0].error
    assert "over the body limit" in result.rejected[2].error
    assert result.accepted == 497 and result.duplicates == 0
    assert sum(progress) == 500

    again = sdk.send(iter(events), max_body_bytes=4096)  # any iterable; re-sending is safe
    assert again.accepted == 0 and again.duplicates == 497

    stored = [e for i, e in enumerate(events) if i not in (10, 30, 40)]
    q = sdk.query("cpu", start=START, end=START + timedelta(days=10), group_by=["project"])
    got = {(p.start.date(), p.group["project"]): p.value for p in q.data}
    assert {k: v for k, v in got.items() if v} == daily_sums(
        [e for e in stored if isinstance(e["data"].get("cpu_ms"), int)]
    )
    assert len(q) == 20  # empty buckets present: 10 days x 2 projects
    rows = q.rows()
    assert set(rows[0]) == {"start", "end", "project", "value"}
    text = q.to_csv()
    assert text is not None
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [float(r["value"]) for r in parsed] == [float(r["value"] or 0) for r in rows]


def test_conflicts_are_reported_with_indexes(sdk: Client) -> None:
    first = jobs(3)
    sdk.send(first)
    changed = [{**first[1], "data": {"cpu_ms": 999, "project": "p1"}}, jobs(5)[4]]
    result = sdk.send(changed)
    assert (result.accepted, result.conflicts) == (1, 1)
    assert [(c.index, c.id) for c in result.conflicting] == [(0, "job-1")]
    assert not result.ok


def test_event_models_decimals_and_dates_go_over_the_wire(sdk: Client) -> None:
    sdk.create_meter("gb", "storage", "sum", value_property="gb")
    naive = datetime(2026, 11, 3, 12, 0)  # taken as UTC
    events = [
        Event("s1", "storage", "alice", naive, {"gb": Decimal("0.1")}),
        Event("s2", "storage", "alice", "2026-11-03T13:00:00+01:00", {"gb": Decimal("0.2")}),
        {"id": "s3", "type": "storage", "subject": "bob", "time": 1793707200000, "data": {}},
    ]
    assert sdk.send(events).accepted == 3
    total = sdk.summary(start=date(2026, 11, 3), end=date(2026, 11, 4)).total("gb")
    assert total == pytest.approx(0.3) and str(total) == "0.3"  # exact decimals, not 0.30000004
    listed = {e.id: e for e in sdk.events()}
    assert listed["s1"].time == naive.replace(tzinfo=UTC)
    assert listed["s2"].time == datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


def test_dates_are_midnight_in_the_query_time_zone(sdk: Client) -> None:
    sdk.create_meter("n", "job", "count")
    sdk.send(jobs(50))
    q = sdk.query("n", start=date(2026, 10, 2), end=date(2026, 10, 4), tz="Asia/Kolkata")
    assert q.start.isoformat() == "2026-10-02T00:00:00+05:30"
    in_range = [
        e
        for e in jobs(50)
        if datetime(2026, 10, 1, 18, 30, tzinfo=UTC)
        <= e["time"]
        < datetime(2026, 10, 3, 18, 30, tzinfo=UTC)
    ]
    assert sum(p.value or 0 for p in q) == len(in_range)


def test_listing_follows_cursors_and_export_streams_to_files(sdk: Client, tmp_path: Path) -> None:
    sent = jobs(230)
    sdk.send(sent)
    listed = list(sdk.events(page_size=50))
    assert [e.id for e in listed] == [e["id"] for e in reversed(sent)]  # newest first
    assert len(list(sdk.events(subject="user-3", page_size=7))) == sum(
        1 for e in sent if e["subject"] == "user-3"
    )
    path = tmp_path / "events.csv"
    assert sdk.export(path) == 230
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == [e["id"] for e in sent]  # export is in time order
    buf = io.BytesIO()
    window_end = START + timedelta(days=1)
    assert sdk.export(buf, end=window_end) == sum(1 for e in sent if e["time"] < window_end)
    assert b"".join(sdk.iter_export(type="nothing")).count(b"\n") == 1  # header only


def test_void_failures_and_retry(sdk: Client) -> None:
    sdk.create_meter("cpu", "job", "sum", value_property="cpu_ms")
    sdk.send(jobs(10))
    voided = sdk.void(["job-1", "job-2", "nope"], source="slurm")
    assert (voided.voided, voided.not_found) == (["job-1", "job-2"], ["nope"])
    total = sdk.summary(start=START, end=START + timedelta(days=1)).total("cpu")
    assert total == sum(range(10)) - 1 - 2
    assert {e.id for e in sdk.events() if e.voided} == {"job-1", "job-2"}

    sdk.send([{"id": "late", "type": "job", "subject": "u", "time": "yesterday"}])
    sdk.send([{"id": "x", "type": "job"}])
    failures = list(sdk.failures(page_size=1))
    assert [f.record["id"] for f in failures] == ["x", "late"]
    assert "time" in failures[1].error
    sdk.clear_failure(failures[0].id)
    retried = sdk.retry_failure(failures[1].id)
    assert not retried.cleared and retried.result.rejected  # still bad, still kept
    assert [f.id for f in sdk.failures()] == [failures[1].id]
    with pytest.raises(NotFoundError):
        sdk.clear_failure(failures[0].id)


def test_meters_tenants_and_keys(sdk: Client, connect: Connect) -> None:
    made = sdk.create_meter("api_calls", "request", "count", unit="calls", description="d")
    assert sdk.get_meter("api_calls") == made
    assert [m.slug for m in sdk.meters() if m.profile is None] == ["api_calls"]
    with pytest.raises(ConflictError):
        sdk.create_meter("api_calls", "request", "count")
    with pytest.raises(ValidationError) as bad:
        sdk.create_meter("cpu", "job", "sum")  # sum needs value_property
    assert bad.value.param == "value_property" and bad.value.status == 400
    sdk.delete_meter("api_calls")
    with pytest.raises(NotFoundError):
        sdk.get_meter("api_calls")

    tenant = sdk.create_tenant("acme")
    assert tenant.name in [t.name for t in sdk.tenants()]
    key = sdk.create_key("read", tenant="acme", name="ci")
    assert key.key and key.key.startswith(key.prefix) and key.tenant == "acme"
    assert key.id not in [k.id for k in sdk.api_keys()]  # keys are listed per tenant
    reader = connect(key.key)
    assert [m for m in reader.meters() if m.profile is None] == []
    with pytest.raises(PermissionDeniedError):
        reader.create_meter("x", "job", "count")
    with pytest.raises(PermissionDeniedError):
        reader.tenants()
    admin_acme = sdk.create_key("admin", tenant="acme")
    assert admin_acme.key is not None
    acme = connect(admin_acme.key)
    assert key.id in [k.id for k in acme.api_keys()]
    acme.revoke_key(key.id)
    with pytest.raises(AuthenticationError):
        reader.meters()


def test_bad_parameters_name_themselves(sdk: Client) -> None:
    sdk.create_meter("n", "job", "count")
    with pytest.raises(ValidationError) as bad:
        sdk.query("n", granularity="fortnight")
    assert bad.value.param == "granularity" and "granularity" in str(bad.value)
    with pytest.raises(ValidationError) as tz:
        sdk.query("n", tz="Mars/Olympus")
    assert tz.value.param == "tz"
    with pytest.raises(NotFoundError):
        sdk.query("missing")
    assert sdk.health()["status"] == "ok"


def test_configuration_comes_from_arguments_or_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("USAGEKIT_URL", raising=False)
    monkeypatch.delenv("USAGEKIT_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="USAGEKIT_URL"):
        Client()
    monkeypatch.setenv("USAGEKIT_URL", "http://127.0.0.1:1")
    with pytest.raises(ConfigurationError, match="USAGEKIT_API_KEY"):
        Client()
    monkeypatch.setenv("USAGEKIT_API_KEY", "uk_x")
    with Client() as c:
        assert c.url == "http://127.0.0.1:1"
    with pytest.raises(ConfigurationError, match="http"):
        Client("localhost:8200", "k")
