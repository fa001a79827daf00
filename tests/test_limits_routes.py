"""The limit routes: every bad field a 400 naming it, 404s and 409s, PATCH, scope, and
exact numbers at any size."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import FIXED_NOW, new_tenant_key

METER = {"slug": "cpu", "event_type": "job", "aggregation": "sum", "value_property": "v",
         "dimensions": {"region": "region"}}  # fmt: skip
GOOD = {"slug": "cap", "meter": "cpu", "period": "month", "limit": 100}
DAY = 86_400_000


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def events(*rows: tuple[str, Any, str]) -> list[dict[str, Any]]:
    return [
        {"id": f"e{i}", "type": "job", "subject": subject, "time": FIXED_NOW - 3_600_000,
         "data": {"v": value, "region": region}}
        for i, (subject, value, region) in enumerate(rows)
    ]  # fmt: skip


@pytest.fixture
def api(fixed_client: TestClient) -> TestClient:
    assert fixed_client.post("/v1/meters", json=METER).status_code == 201
    return fixed_client


def error_of(reply: Any, status: int) -> str:
    assert reply.status_code == status, reply.text
    param: str = reply.json()["error"]["param"]
    return param


BAD_FIELDS = [
    ({"slug": "Not A Slug"}, "slug"),
    ({"slug": ""}, "slug"),
    ({"period": "fortnight"}, "period"),
    ({"tz": "Mars/Olympus"}, "tz"),
    ({"tz": "../etc"}, "tz"),
    ({"limit": -1}, "limit"),
    ({"limit": "lots"}, "limit"),
    ({"limit": True}, "limit"),
    ({"limit": {"n": 1}}, "limit"),
    ({"limit": "1e40"}, "limit"),
    ({"thresholds": []}, "thresholds"),
    ({"thresholds": [0]}, "thresholds"),
    ({"thresholds": [1001]}, "thresholds"),
    ({"thresholds": [80, 50]}, "thresholds"),
    ({"thresholds": [50, 50]}, "thresholds"),
    ({"thresholds": ["x"]}, "thresholds"),
    ({"scope": "planet"}, "scope"),
    ({"filter": {"colour": ["red"]}}, "filter.colour"),
    ({"filter": {"region": []}}, "filter.region"),
    ({"description": "x" * 2001}, "description"),
    ({"nonsense": 1}, "nonsense"),
]


@pytest.mark.parametrize(("change", "param"), BAD_FIELDS)
def test_a_bad_field_is_a_400_naming_it(api: TestClient, change: dict[str, Any],
                                        param: str) -> None:  # fmt: skip
    assert error_of(api.post("/v1/limits", json={**GOOD, **change}), 400) == param
    assert api.get("/v1/limits").json() == []
    if param not in ("slug", "nonsense"):
        assert api.post("/v1/limits", json=GOOD).status_code == 201
        assert error_of(api.patch("/v1/limits/cap", json=change), 400) == param


@pytest.mark.parametrize("missing", ["slug", "meter", "period", "limit"])
def test_a_missing_field_is_a_400_naming_it(api: TestClient, missing: str) -> None:
    body = {k: v for k, v in GOOD.items() if k != missing}
    assert error_of(api.post("/v1/limits", json=body), 400) == missing


def test_unknown_meter_and_limit_are_404s_and_a_repeat_409(api: TestClient) -> None:
    assert error_of(api.post("/v1/limits", json={**GOOD, "meter": "nope"}), 404) == "meter"
    for method in ("GET", "PATCH", "DELETE"):
        reply = api.request(method, "/v1/limits/nope", json={"limit": 1})
        assert error_of(reply, 404) == "slug"
    assert error_of(api.get("/v1/limits/nope/status?subject=a"), 404) == "slug"
    assert api.post("/v1/limits", json=GOOD).status_code == 201
    assert error_of(api.post("/v1/limits", json={**GOOD, "limit": 5}), 409) == "slug"
    assert api.get("/v1/limits/cap").json()["limit"] == 100
    # A meter with limits is not deleted from under them.
    assert error_of(api.delete("/v1/meters/cpu"), 409) == "slug"
    assert api.delete("/v1/limits/cap").status_code == 204
    assert api.delete("/v1/meters/cpu").status_code == 204


def test_create_defaults_patch_and_delete(api: TestClient) -> None:
    made = api.post("/v1/limits", json=GOOD)
    assert made.status_code == 201, made.text
    want = {"slug": "cap", "meter": "cpu", "period": "month", "tz": "UTC", "limit": 100,
            "thresholds": [100], "scope": "subject", "filter": {}, "description": None}  # fmt: skip
    body = made.json()
    assert {k: body[k] for k in want} == want
    patch = {"thresholds": [50, 80.5, 100], "filter": {"region": ["us", "eu"]},
             "tz": "Asia/Kathmandu", "period": "rolling_7d", "description": "plan"}  # fmt: skip
    changed = api.patch("/v1/limits/cap", json=patch).json()
    assert changed == {**body, **patch, "filter": {"region": ["eu", "us"]},
                       "updated": changed["updated"]}  # fmt: skip
    assert api.get("/v1/limits/cap").json() == changed
    assert api.patch("/v1/limits/cap", json={"description": None}).json()["description"] is None
    assert error_of(api.patch("/v1/limits/cap", json={"period": None}), 400) == "period"
    assert [x["slug"] for x in api.get("/v1/limits").json()] == ["cap"]
    assert api.delete("/v1/limits/cap").status_code == 204
    assert api.get("/v1/limits").json() == []


def test_status_needs_a_subject_exactly_for_per_subject_limits(api: TestClient) -> None:
    api.post("/v1/events", json=events(("a", 30, "eu"), ("a", 70, "us"), ("b", 5, "eu")))
    api.post("/v1/limits", json={**GOOD, "thresholds": [50, 100, 150]})
    api.post("/v1/limits", json={**GOOD, "slug": "all", "scope": "tenant", "limit": 210})
    api.post("/v1/limits", json={**GOOD, "slug": "eu", "filter": {"region": ["eu"]}})
    assert error_of(api.get("/v1/limits/cap/status"), 400) == "subject"
    assert error_of(api.get("/v1/limits/all/status?subject=a"), 400) == "subject"
    assert error_of(api.get("/v1/limits/cap/status?subject=a&at=soon"), 400) == "at"
    last_month = "/v1/limits/cap/status?subject=a&at=9999-12-31T00:00:00Z"  # ends in 10000
    assert error_of(api.get(last_month), 400) == "at"
    status = api.get("/v1/limits/cap/status?subject=a").json()
    assert status == {
        "slug": "cap", "scope": "subject", "subject": "a", "usage": 100, "limit": 100,
        "remaining": 0, "has_access": False, "percent": 100, "thresholds_reached": [50, 100],
        "period_start": "2026-09-01T00:00:00Z", "period_end": "2026-10-01T00:00:00Z",
    }  # fmt: skip
    whole = api.get("/v1/limits/all/status").json()
    assert (whole["subject"], whole["usage"], whole["remaining"]) == (None, 105, 105)
    assert whole["has_access"] is True and whole["percent"] == 50
    assert api.get("/v1/limits/eu/status?subject=a").json()["usage"] == 30
    every = api.get("/v1/subjects/a/limits").json()
    assert [(s["slug"], s["usage"]) for s in every] == [("cap", 100), ("eu", 30), ("all", 105)]
    # Another month: nothing used yet.
    later = api.get("/v1/limits/cap/status?subject=a&at=2026-10-02T00:00:00Z").json()
    assert (later["usage"], later["has_access"], later["period_start"]) == (
        0, True, "2026-10-01T00:00:00Z")  # fmt: skip


def test_numbers_are_exact_at_any_size(api: TestClient) -> None:
    huge = 10**17 + 1  # past a float's 53 bits
    api.post("/v1/events", json=events(("a", huge, "eu"), ("a", huge, "eu"), ("a", "0.1", "eu")))
    limit = "200000000000000002.300000001"
    made = api.post("/v1/limits", json={**GOOD, "limit": limit, "thresholds": [33.3, 100]})
    assert made.status_code == 201, made.text
    raw = api.get("/v1/limits/cap/status?subject=a").content
    parsed = json.loads(raw, parse_float=Decimal)
    usage = Decimal(2 * huge) + Decimal("0.1")
    assert parsed["usage"] == usage and parsed["limit"] == Decimal(limit)
    assert parsed["remaining"] == Decimal(limit) - usage  # 0.200000001
    assert parsed["has_access"] is True and parsed["thresholds_reached"] == [Decimal("33.3")]
    assert parsed["percent"] == (usage * 100 / Decimal(limit)).quantize(Decimal("1e-9"))


def test_a_subject_bound_key_reads_its_own_status_only(api: TestClient) -> None:
    api.post("/v1/events", json=events(("a", 3, "eu"), ("b", 5, "eu")))
    api.post("/v1/limits", json=GOOD)
    api.post("/v1/limits", json={**GOOD, "slug": "all", "scope": "tenant"})
    reader = auth(new_tenant_key(api, "default", "read", subject="a"))
    ingest = auth(new_tenant_key(api, "default", "ingest"))
    assert api.get("/v1/limits/cap/status?subject=a", headers=reader).json()["usage"] == 3
    assert api.get("/v1/limits/cap/status?subject=b", headers=reader).status_code == 403
    assert api.get("/v1/limits/all/status", headers=reader).status_code == 403
    assert api.get("/v1/subjects/b/limits", headers=reader).status_code == 403
    mine = api.get("/v1/subjects/a/limits", headers=reader).json()
    assert [s["slug"] for s in mine] == ["cap"]  # the tenant-wide one shows everyone's usage
    assert [x["slug"] for x in api.get("/v1/limits", headers=reader).json()] == ["all", "cap"]
    assert api.post("/v1/limits", json={**GOOD, "slug": "x"}, headers=reader).status_code == 403
    assert api.delete("/v1/limits/cap", headers=reader).status_code == 403
    assert api.get("/v1/limits", headers=ingest).status_code == 403


def test_another_tenants_limits_are_not_found(api: TestClient) -> None:
    api.post("/v1/limits", json=GOOD)
    other = auth(new_tenant_key(api, "other"))
    assert api.get("/v1/limits", headers=other).json() == []
    assert api.get("/v1/limits/cap", headers=other).status_code == 404
    assert api.get("/v1/limits/cap/status?subject=a", headers=other).status_code == 404
    assert api.delete("/v1/limits/cap", headers=other).status_code == 404
    assert api.post("/v1/limits", json=GOOD, headers=other).status_code == 404  # no meter cpu
    assert api.post("/v1/meters", json=METER, headers=other).status_code == 201
    assert api.post("/v1/limits", json=GOOD, headers=other).status_code == 201
    assert api.get("/v1/limits/cap").status_code == 200
