"""Meters CRUD and validation, CSV query output, summary, events listing and export."""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson
from fastapi.testclient import TestClient

from tests.conftest import new_tenant_key


def job(i: int, **data: Any) -> dict[str, Any]:
    return {
        "id": f"j{i}",
        "type": "job",
        "subject": f"u{i % 3}",
        "time": 1793577600000 + i * 60_000,
        "data": {"cpu": i, "project": f"p{i % 2}", **data},
    }


def test_meter_lifecycle_and_validation(client: TestClient) -> None:
    body = {
        "slug": "cpu",
        "event_type": "job",
        "aggregation": "sum",
        "value_property": "cpu",
        "dimensions": {"project": "project"},
        "unit": "ms",
    }
    assert client.post("/v1/meters", json=body).status_code == 201
    assert client.post("/v1/meters", json=body).status_code == 409
    assert client.get("/v1/meters/cpu").json()["unit"] == "ms"
    own = [m["slug"] for m in client.get("/v1/meters").json() if m["profile"] is None]
    assert own == ["cpu"]
    bad = [
        ({**body, "slug": "Bad Slug"}, "slug"),
        ({**body, "slug": "x", "aggregation": "median"}, "aggregation"),
        ({**body, "slug": "x", "value_property": None}, "value_property"),
        ({**body, "slug": "x", "dimensions": {"subject": "s"}}, "dimensions"),
    ]
    for payload, param in bad:
        reply = client.post("/v1/meters", json=payload)
        assert reply.status_code == 400, payload
        assert reply.json()["error"]["param"] == param
    assert client.delete("/v1/meters/cpu").status_code == 204
    assert client.get("/v1/meters/cpu").status_code == 404


def test_query_parameters_are_checked(client: TestClient) -> None:
    client.post("/v1/meters", json={"slug": "n", "event_type": "job", "aggregation": "count"})
    cases = {
        "granularity": {"granularity": "fortnight"},
        "tz": {"tz": "Mars/Olympus"},
        "aggregation_type": {"aggregation_type": "rolling"},
        "group_by": {"group_by": "nope"},
        "from": {"from": "last tuesday"},
        "to": {"from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"},
    }
    for param, query in cases.items():
        reply = client.get("/v1/meters/n/query", params=query)
        assert reply.status_code == 400, (param, reply.text)
        assert reply.json()["error"]["param"] == param
    reply = client.get(
        "/v1/meters/n/query",
        params={
            "from": "2020-01-01T00:00:00Z",
            "to": "2026-01-01T00:00:00Z",
            "granularity": "minute",
        },
    )
    assert reply.status_code == 400
    assert "granularity" in reply.json()["error"]["message"]


def test_csv_query_and_summary(client: TestClient) -> None:
    client.post(
        "/v1/meters",
        json={
            "slug": "cpu",
            "event_type": "job",
            "aggregation": "sum",
            "value_property": "cpu",
            "dimensions": {"project": "project"},
        },
    )
    client.post("/v1/meters", json={"slug": "n", "event_type": "job", "aggregation": "count"})
    client.post("/v1/events", json=[job(i) for i in range(10)])
    params = {"from": "2026-11-02T00:00:00Z", "to": "2026-11-04T00:00:00Z", "group_by": "project"}
    reply = client.get("/v1/meters/cpu/query", params=params, headers={"Accept": "text/csv"})
    assert reply.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    as_json = client.get("/v1/meters/cpu/query", params=params).json()["data"]
    assert [(r["start"], r["project"], r["value"]) for r in rows] == [
        (r["start"], r["group"]["project"], str(r["value"])) for r in as_json
    ]
    assert sum(int(r["value"]) for r in rows) == sum(range(10))
    summary = client.get("/v1/usage/summary", params={**params, "group_by": "project"}).json()
    got = {(r["meter"], r["group"]["project"]): r["value"] for r in summary["data"]}
    assert got == {("cpu", "p0"): 20, ("cpu", "p1"): 25, ("n", None): 10}


def test_subject_bound_key_sees_only_its_subject(client: TestClient) -> None:
    client.post("/v1/meters", json={"slug": "n", "event_type": "job", "aggregation": "count"})
    client.post("/v1/events", json=[job(i) for i in range(9)])
    key = new_tenant_key(client, "default", "read", subject="u1")
    headers = {"Authorization": f"Bearer {key}"}
    params = {"from": "2026-11-02T00:00:00Z", "to": "2026-11-03T00:00:00Z"}
    assert (
        client.get("/v1/meters/n/query", params=params, headers=headers).json()["data"][0]["value"]
        == 3
    )
    assert (
        client.get(
            "/v1/meters/n/query", params={**params, "subject": "u2"}, headers=headers
        ).status_code
        == 403
    )
    listed = client.get("/v1/events", headers=headers).json()["data"]
    assert {e["subject"] for e in listed} == {"u1"}
    exported = client.get("/v1/events/export", headers=headers).text
    assert {r["subject"] for r in csv.DictReader(io.StringIO(exported))} == {"u1"}


def test_listing_pages_newest_first_with_filters(client: TestClient) -> None:
    client.post("/v1/events", json=[job(i) for i in range(30)])
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 7, "subject": "u0"}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/events", params=params).json()
        seen += [e["id"] for e in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"j{i}" for i in range(27, -1, -3)]
    window = client.get(
        "/v1/events", params={"from": 1793577600000 + 5 * 60_000, "to": 1793577600000 + 8 * 60_000}
    ).json()["data"]
    assert [e["id"] for e in window] == ["j7", "j6", "j5"]
    assert client.get("/v1/events", params={"cursor": "garbage!"}).status_code == 400


def test_export_streams_every_event_as_csv(client: TestClient) -> None:
    total = 12_345  # more than two export pages
    for start in range(0, total, 3000):
        events = [job(i) for i in range(start, min(total, start + 3000))]
        assert client.post("/v1/events", json=events).json()["accepted"] == len(events)
    client.post("/v1/events/void", json={"ids": ["j0"]})
    reply = client.get("/v1/events/export")
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    assert len(rows) == total
    assert len({r["id"] for r in rows}) == total
    assert orjson.loads(rows[3]["data"]) == job(3)["data"]
    assert rows[0]["voided_at"] and not rows[1]["voided_at"]
    times = [r["time"] for r in rows]
    assert times == sorted(times)
    part = client.get(
        "/v1/events/export", params={"from": job(100)["time"], "to": job(200)["time"]}
    )
    assert len(list(csv.DictReader(io.StringIO(part.text)))) == 100


def test_export_quotes_awkward_values(client: TestClient) -> None:
    odd = {
        "id": 'a,"b"',
        "source": "s\nt",
        "type": "job",
        "subject": "x,y",
        "time": 1793577600000,
        "data": {"note": 'say "hi",\nthen go', "n": 1},
    }
    assert client.post("/v1/events", json=[odd]).json()["accepted"] == 1
    [row] = list(csv.DictReader(io.StringIO(client.get("/v1/events/export").text)))
    assert (row["id"], row["source"], row["subject"]) == (odd["id"], odd["source"], odd["subject"])
    assert orjson.loads(row["data"]) == odd["data"]
    assert row["time"] == "2026-11-02T00:00:00Z"


def test_subject_reads_find_sparse_events_across_long_gaps(client: TestClient) -> None:
    # A subject's events are found hour window by hour window (widening while empty):
    # events months apart, several in one hour, and other subjects in between.
    day = 86_400_000
    base = 1767225600000  # 2026-01-01
    offsets = [0, 5, 3_600_000, 40 * day, 40 * day + 1, 200 * day + 7, 400 * day]
    rare = [
        {"id": f"r{i}", "type": "job", "subject": "rare", "time": base + t, "data": {"cpu": 1}}
        for i, t in enumerate(offsets)
    ]
    noise = [
        {"id": f"n{i}", "type": "job", "subject": f"x{i}", "time": base + i * day, "data": {}}
        for i in range(0, 400, 7)
    ]
    assert client.post("/v1/events", json=rare + noise).json()["accepted"] == len(rare + noise)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "subject": "rare", "type": "job"}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/events", params=params).json()
        seen += [e["id"] for e in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"r{i}" for i in reversed(range(len(offsets)))]
    window = {"subject": "rare", "from": base + 4, "to": base + 200 * day + 8}
    listed = client.get("/v1/events", params=window).json()["data"]
    assert [e["id"] for e in listed] == ["r5", "r4", "r3", "r2", "r1"]
    key = new_tenant_key(client, "default", "read", subject="rare")
    exported = client.get("/v1/events/export", headers={"Authorization": f"Bearer {key}"}).text
    assert [r["id"] for r in csv.DictReader(io.StringIO(exported))] == [r["id"] for r in rare]
    client.post("/v1/meters", json={"slug": "n", "event_type": "job", "aggregation": "count"})
    params = {"from": "2026-01-01T00:00:00Z", "to": "2027-03-01T00:00:00Z", "subject": "rare"}
    params["granularity"] = "month"
    reply = client.get("/v1/meters/n/query", params=params).json()
    assert sum(r["value"] or 0 for r in reply["data"]) == len(offsets)
