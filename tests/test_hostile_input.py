"""Hostile input to every native route: a 4xx naming the parameter or record, never a 5xx.

Each case was a 500 on SQLite or PostgreSQL before core.params and core.jsondata.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.live import serve

BIG = str(2**63)
GOOD = {"type": "t", "subject": "s", "time": 1_700_000_000_000, "data": {"v": 1}}


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.fixture
def meter(client: TestClient) -> str:
    reply = client.post(
        "/v1/meters",
        json={"slug": "m", "event_type": "t", "aggregation": "sum", "value_property": "v"},
    )
    assert reply.status_code == 201, reply.text
    return "m"


QUERY = "/v1/meters/m/query"
HOSTILE_GETS = [
    ("/v1/events?to=²", "to"),
    ("/v1/events?from=١٩٧٠", "from"),
    ("/v1/events?to=" + "9" * 5000, "to"),
    ("/v1/events?cursor=" + cursor_of(f"{BIG}:1"), "cursor"),
    ("/v1/events?cursor=" + cursor_of("1:" + "9" * 400), "cursor"),
    ("/v1/events?subject=a%00b", "subject"),
    ("/v1/events?type=a%00b", "type"),
    ("/v1/events/export?to=²", "to"),
    ("/v1/events/export?type=a%00", "type"),
    ("/v1/failures?cursor=" + cursor_of(BIG), "cursor"),
    ("/v1/failures?channel=x%00", "channel"),
    ("/v1/ingestion?to=²", "to"),
    ("/v1/ingestion?from=99999999999999999999999", "from"),
    ("/v1/usage/summary?to=²", "to"),
    ("/v1/usage/summary?from=0001-01-01T00:00:00Z", "from"),
    (QUERY + "?from=²", "from"),
    (QUERY + "?tz=America", "tz"),
    (QUERY + "?tz=" + "a" * 300, "tz"),
    (QUERY + "?tz=../../../etc/passwd", "tz"),
    (QUERY + "?granularity=fortnight", "granularity"),
    (QUERY + "?to=10000-01-01T00:00:00Z", "to"),
    (QUERY + "?filter[subject]=a%00b", "filter[subject]"),
    (QUERY + "?subject=a%00b", "subject"),
    (QUERY + "?group_by=a%00b", "group_by"),
    (
        QUERY + "?from=9999-12-31T00:00:00Z&to=9999-12-31T23:59:59Z&tz=Pacific/Kiritimati",
        "to",
    ),
    ("/v1/meters/a%00b", "slug"),
]


@pytest.mark.parametrize(("url", "param"), HOSTILE_GETS)
def test_hostile_query_is_a_400_naming_the_parameter(
    client: TestClient, meter: str, url: str, param: str
) -> None:
    reply = client.get(url)
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["param"] == param


@pytest.mark.parametrize(
    ("method", "url", "param"),
    [
        ("DELETE", f"/v1/failures/{BIG}", "failure_id"),
        ("POST", f"/v1/failures/{BIG}/retry", "failure_id"),
        ("DELETE", "/v1/failures/²", "failure_id"),
        ("DELETE", "/v1/keys/a%00b", "key_id"),
        ("DELETE", "/v1/meters/a%00b", "slug"),
    ],
)
def test_hostile_path_is_a_400(client: TestClient, method: str, url: str, param: str) -> None:
    reply = client.request(method, url)
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["param"] == param


@pytest.mark.parametrize(
    ("url", "body", "param"),
    [
        ("/v1/tenants", {"name": "a\x00b"}, "name"),
        ("/v1/keys", {"role": "read", "subject": "s\x00"}, "subject"),
        ("/v1/meters", {"slug": "m\x00", "event_type": "t", "aggregation": "count"}, "slug"),
        (
            "/v1/meters",
            {"slug": "n", "event_type": "t", "aggregation": "count", "dimensions": {"a": "b\x00"}},
            "dimensions.a",
        ),
        ("/v1/events/void", {"ids": ["a\x00"]}, "ids.0"),
        ("/v1/registry/projects", {"names": ["p\x00"]}, "names.0"),
    ],
)
def test_nul_in_a_json_body_is_a_400(
    client: TestClient, url: str, body: dict[str, Any], param: str
) -> None:
    reply = client.post(url, json=body)
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["param"] == param


def deep(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def record_text(rid: str, data: str = '{"v": 1}', **fields: Any) -> str:
    head = json.dumps({**GOOD, "id": rid, **fields})[:-1]
    return head.replace(', "data": {"v": 1}', "") + f', "data": {data}}}'


# (record text, what the rejection says); each sits between good records in one body.
PATHOLOGICAL = [
    (record_text("huge", '{"v": 18446744073709551616}'), "beyond 64 bits"),
    (record_text("huge-neg", '{"v": -9223372036854775809}'), "beyond 64 bits"),
    (record_text("huge-deep", '{"x": [1, {"y": 123456789012345678901234567890}]}'), "data.x[1].y"),
    (record_text("digits", '{"v": ' + "9" * 5000 + "}"), "cannot be kept exactly"),
    (record_text("inf", '{"v": 1e999}'), "cannot be kept exactly"),
    (record_text("deep-300", deep(300)), "nested deeper than 32"),
    (record_text("deep-3000", deep(3000)), "nested deeper than 32"),
    (record_text("nul-id\x00"), "id: holds a NUL"),
    (record_text("nul-subject", subject="s\x00"), "subject: holds a NUL"),
    (record_text("nul-type", type="t\x00"), "type: holds a NUL"),
    (record_text("nul-key", '{"k\\u0000": 1}'), "a key holds a NUL"),
    (record_text("nul-value", '{"k": "v\\u0000"}'), "data.k: text holds a NUL"),
    (record_text("surrogate", '{"k": "\\ud800"}'), "lone surrogate"),
    (record_text("surrogate-id\udfff"), "id: holds"),
    (record_text("x", id=10**300), "id: "),
    (record_text("nul-field", **{"\x00": 1}), "unknown field(s) \\u0000"),
    (record_text("surrogate-field", **{"\ud800": 1}), "unknown field(s) \\ud800"),
    (record_text("x", id=[[[[]]]]), "id: expected a string"),
]


@pytest.mark.parametrize(("bad", "says"), PATHOLOGICAL, ids=lambda v: str(v)[:20])
@pytest.mark.parametrize("shape", ["array", "envelope", "ndjson"])
def test_each_record_is_judged_alone(
    client: TestClient, meter: str, shape: str, bad: str, says: str
) -> None:
    tag = f"{shape}-{PATHOLOGICAL.index((bad, says))}"
    records = [record_text(f"{tag}-a"), bad, record_text(f"{tag}-b")]
    if shape == "ndjson":
        body, ctype = "\n".join(records), "application/x-ndjson"
    else:
        body, ctype = "[" + ",".join(records) + "]", "application/json"
        if shape == "envelope":
            body = '{"events": ' + body + "}"
    reply = client.post("/v1/events", content=body, headers={"content-type": ctype})
    assert reply.status_code == 202, reply.text
    got = reply.json()
    assert got["accepted"] == 2
    assert [r["index"] for r in got["rejected"]] == [1]
    assert says in got["rejected"][0]["error"]
    ids = {e["id"] for e in client.get("/v1/events?limit=1000").json()["data"]}
    assert {f"{tag}-a", f"{tag}-b"} <= ids
    listed = client.get("/v1/failures")
    assert listed.status_code == 200
    assert listed.json()["data"][0]["error"] == got["rejected"][0]["error"]


def test_64_bit_integers_in_data_keep_their_exact_value(client: TestClient) -> None:
    values = [2**63 - 1, 2**63 + 1, 2**64 - 1, -(2**63), 12345678901234567891]
    body = [
        {**GOOD, "id": f"exact-{i}", "data": {"v": 1, "n": n, "l": [n]}}
        for i, n in enumerate(values)
    ]
    for shape in (body, [*body[:1], {"id": "bad"}, *body[1:]]):  # fast path, then slow path
        reply = client.post(
            "/v1/events", content=orjson.dumps(shape), headers={"content-type": "application/json"}
        )
        assert reply.status_code == 202, reply.text
    stored = {e["id"]: e["data"] for e in client.get("/v1/events").json()["data"]}
    raw = client.get("/v1/events").content
    for i, n in enumerate(values):
        assert stored[f"exact-{i}"]["n"] == n
        assert str(n).encode() in raw  # not 1.8446744073709552e19


def test_syntax_errors_still_refuse_the_whole_body(client: TestClient) -> None:
    body = "[" + record_text("ok-1") + ', {"id": }, ' + record_text("big", '{"v": 1e999}') + "]"
    reply = client.post("/v1/events", content=body, headers={"content-type": "application/json"})
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == "body"
    assert client.get("/v1/events").json()["data"] == []


def test_integers_past_64_bits_are_refused_not_rounded(client: TestClient) -> None:
    """orjson read 2**64 + 1 as 1.8446744073709552e19; the record was stored rounded."""
    records = [
        {"id": "not-a-record"},
        {**GOOD, "id": "past-64", "data": {"v": 1, "n": 2**64 + 1}},
        {**GOOD, "id": "fine", "data": {"v": 1, "n": 2**64 - 1}},
    ]
    reply = client.post("/v1/events", content=json.dumps(records))
    assert reply.status_code == 202, reply.text
    assert [r["index"] for r in reply.json()["rejected"]] == [0, 1]
    stored = {e["id"]: e["data"] for e in client.get("/v1/events").json()["data"]}
    assert stored == {"fine": {"v": 1, "n": 2**64 - 1}}


def test_a_real_server_judges_pathological_records_alone(db_url: str, tmp_path: Path) -> None:
    """Through uvicorn and the writer process: bad records rejected, good ones stored."""
    bad = [raw for raw, _ in PATHOLOGICAL]
    records = [record_text(f"live-{i}") for i in range(3)]
    body = "[" + ",".join([records[0], *bad, records[1], records[2]]) + "]"
    with serve(db_url, tmp_path) as live, live.client() as c:
        reply = c.post("/v1/events", content=body, headers={"content-type": "application/json"})
        assert reply.status_code == 202, reply.text
        got = reply.json()
        assert got["accepted"] == 3
        assert [r["index"] for r in got["rejected"]] == list(range(1, len(bad) + 1))
        assert c.get("/v1/failures?limit=1000").status_code == 200
        assert c.get("/v1/events?to=²").status_code == 400
