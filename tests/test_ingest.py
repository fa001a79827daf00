"""POST /v1/events: formats, per-record judgement, dedup, conflicts, limits."""

from __future__ import annotations

import orjson
from fastapi.testclient import TestClient

from tests.conftest import new_tenant_key


def ev(i: int | str, **over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": f"e{i}",
        "source": "slurm",
        "type": "job",
        "subject": "alice",
        "time": "2026-11-02T10:15:00Z",
        "data": {"cpu_ms": 10, "project": "p1"},
    }
    base.update(over)
    return base


def test_array_envelope_and_ndjson_are_all_accepted(client: TestClient) -> None:
    r1 = client.post("/v1/events", json=[ev(1), ev(2)])
    r2 = client.post("/v1/events", json={"events": [ev(3)]})
    lines = b"\n".join(orjson.dumps(ev(i)) for i in (4, 5)) + b"\n"
    r3 = client.post("/v1/events", content=lines, headers={"Content-Type": "application/x-ndjson"})
    assert [r.status_code for r in (r1, r2, r3)] == [202, 202, 202]
    assert [r.json()["accepted"] for r in (r1, r2, r3)] == [2, 1, 2]
    listed = client.get("/v1/events").json()["data"]
    assert sorted(e["id"] for e in listed) == ["e1", "e2", "e3", "e4", "e5"]


def test_bad_record_is_returned_and_kept_while_good_ones_are_stored(client: TestClient) -> None:
    batch = [
        ev(1),
        ev(2, time="yesterday"),
        ev(3, subject=""),
        ev(4, data=[1]),
        ev(5, extra=1),
        ev(6),
    ]
    reply = client.post("/v1/events", json=batch)
    assert reply.status_code == 202
    body = reply.json()
    assert body["accepted"] == 2
    errors = {r["index"]: r["error"] for r in body["rejected"]}
    assert set(errors) == {1, 2, 3, 4}
    assert errors[1].startswith("time:")
    assert errors[2].startswith("subject:")
    assert errors[3].startswith("data:")
    assert "extra" in errors[4]
    failures = client.get("/v1/failures").json()["data"]
    assert sorted(f["record"]["id"] for f in failures) == ["e2", "e3", "e4", "e5"]
    assert all(f["error"] for f in failures)


def test_duplicates_and_conflicts_are_counted_and_the_original_kept(client: TestClient) -> None:
    assert client.post("/v1/events", json=[ev(1), ev(2)]).json()["accepted"] == 2
    again = client.post("/v1/events", json=[ev(1), ev(2, data={"cpu_ms": 99}), ev(3), ev(3)]).json()
    assert (again["accepted"], again["duplicates"], again["conflicts"]) == (1, 2, 1)
    assert again["conflicting"][0]["index"] == 1
    stored = {e["id"]: e for e in client.get("/v1/events").json()["data"]}
    assert stored["e2"]["data"] == {"cpu_ms": 10, "project": "p1"}
    kept = client.get("/v1/failures").json()["data"]
    assert [f["record"]["data"] for f in kept] == [{"cpu_ms": 99}]


def test_same_id_in_another_source_or_tenant_is_a_different_event(client: TestClient) -> None:
    assert client.post("/v1/events", json=[ev(1), ev(1, source="other")]).json()["accepted"] == 2
    other = new_tenant_key(client, "acme", "ingest")
    reply = client.post("/v1/events", json=[ev(1)], headers={"Authorization": f"Bearer {other}"})
    assert reply.json()["accepted"] == 1


def test_broken_json_gets_400_with_position_and_stores_nothing(client: TestClient) -> None:
    reply = client.post(
        "/v1/events", content=b'[{"id": "x",,}]', headers={"Content-Type": "application/json"}
    )
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert "line 1 column" in error["message"]
    assert error["param"] == "body"
    assert client.get("/v1/events").json()["data"] == []


def test_broken_ndjson_line_is_rejected_alone(client: TestClient) -> None:
    body = orjson.dumps(ev(1)) + b"\n{not json\n" + orjson.dumps(ev(2))
    reply = client.post(
        "/v1/events", content=body, headers={"Content-Type": "application/x-ndjson"}
    )
    assert reply.status_code == 202
    assert reply.json()["accepted"] == 2
    assert reply.json()["rejected"][0]["index"] == 1
    assert "line 2" in reply.json()["rejected"][0]["error"]


def test_body_over_the_limit_gets_413_and_stores_nothing(client: TestClient) -> None:
    big = [ev(i, data={"pad": "x" * 1000}) for i in range(1200)]
    reply = client.post("/v1/events", json=big)
    assert reply.status_code == 413
    assert "limit" in reply.json()["error"]["message"]
    assert client.get("/v1/events").json()["data"] == []


def test_unix_milliseconds_and_offsets_mean_the_same_instant(client: TestClient) -> None:
    reply = client.post(
        "/v1/events",
        json=[
            ev(1, time=1793614500000),
            ev(2, time="2026-11-02T15:45:00+05:30"),
        ],
    )
    assert reply.json()["accepted"] == 2
    times = {e["time"] for e in client.get("/v1/events").json()["data"]}
    assert times == {"2026-11-02T10:15:00Z"}


def test_keys_roles_and_tenants(client: TestClient) -> None:
    assert client.post("/v1/events", json=[ev(1)], headers={"Authorization": ""}).status_code == 401
    assert client.get("/v1/events", headers={"Authorization": "Bearer nope"}).status_code == 401
    ingest = new_tenant_key(client, "default", "ingest")
    reader = new_tenant_key(client, "default", "read")
    as_ingest = {"Authorization": f"Bearer {ingest}"}
    as_reader = {"Authorization": f"Bearer {reader}"}
    assert client.post("/v1/events", json=[ev(1)], headers=as_ingest).status_code == 202
    assert client.get("/v1/events", headers=as_ingest).status_code == 403
    assert client.post("/v1/events", json=[ev(2)], headers=as_reader).status_code == 403
    assert len(client.get("/v1/events", headers=as_reader).json()["data"]) == 1
    other = new_tenant_key(client, "acme", "admin")
    as_other = {"Authorization": f"Bearer {other}"}
    assert client.get("/v1/events", headers=as_other).json()["data"] == []
    assert client.post("/v1/tenants", json={"name": "x"}, headers=as_other).status_code == 403
    made = client.post("/v1/keys", json={"tenant": "default", "role": "read"}, headers=as_other)
    assert made.status_code == 403


def test_revoked_key_stops_working(client: TestClient) -> None:
    made = client.post("/v1/keys", json={"role": "read"}).json()
    headers = {"Authorization": f"Bearer {made['key']}"}
    assert client.get("/v1/events", headers=headers).status_code == 200
    assert client.delete(f"/v1/keys/{made['id']}").status_code == 204
    assert client.get("/v1/events", headers=headers).status_code == 401
    listed = {k["id"]: k for k in client.get("/v1/keys").json()}
    assert listed[made["id"]]["revoked"] is not None
    assert "key" not in listed[made["id"]]


def test_error_bodies_have_one_shape(client: TestClient) -> None:
    replies = [
        client.get("/v1/nowhere"),
        client.get("/v1/meters/none"),
        client.post("/v1/meters", json={"slug": "x"}),
        client.get("/v1/events", params={"limit": 0}),
        client.get("/v1/events", headers={"Authorization": "Bearer bad"}),
    ]
    for reply in replies:
        error = reply.json()["error"]
        assert set(error) == {"code", "message", "param"}
        assert error["message"]
    assert [r.status_code for r in replies] == [404, 404, 400, 400, 401]
