"""GET /v1/limits/{slug}/subjects: the subjects closest to a limit, each row equal to
that subject's own status; tenant-wide limits, filters, periods, bounds and scope."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import FIXED_NOW, new_tenant_key

METER = {"slug": "cpu", "event_type": "job", "aggregation": "sum", "value_property": "v",
         "dimensions": {"region": "region"}}  # fmt: skip
USERS = {"slug": "users", "event_type": "job", "aggregation": "unique_count",
         "value_property": "user"}  # fmt: skip
CAP = {"slug": "cap", "meter": "cpu", "period": "month", "limit": 100, "thresholds": [50, 100]}
HOUR = 3_600_000


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def events(*rows: tuple[str, Any, str, str], at: int = FIXED_NOW - HOUR) -> list[dict[str, Any]]:
    return [
        {"id": f"e{at}-{i}", "type": "job", "subject": subject, "time": at,
         "data": {"v": value, "region": region, "user": user}}
        for i, (subject, value, region, user) in enumerate(rows)
    ]  # fmt: skip


@pytest.fixture
def api(fixed_client: TestClient) -> TestClient:
    for meter in (METER, USERS):
        assert fixed_client.post("/v1/meters", json=meter).status_code == 201
    sent = events(("a", 30, "eu", "u1"), ("a", 80, "us", "u2"), ("b", 60, "eu", "u1"),
                  ("c", 60, "us", "u1"), ("d", 0, "eu", "u3"))  # fmt: skip
    sent += events(("b", 500, "eu", "u9"), at=FIXED_NOW - 20 * 24 * HOUR)  # last month
    assert fixed_client.post("/v1/events", json=sent).json()["accepted"] == len(sent)
    return fixed_client


def closest(api: TestClient, slug: str, **query: Any) -> dict[str, Any]:
    reply = api.get(f"/v1/limits/{slug}/subjects", params=query)
    assert reply.status_code == 200, reply.text
    found: dict[str, Any] = reply.json()
    return found


def test_usage_descending_and_each_row_is_the_subjects_status(api: TestClient) -> None:
    assert api.post("/v1/limits", json=CAP).status_code == 201
    body = closest(api, "cap")
    assert (body["period_start"], body["period_end"], body["limit"]) == (
        "2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z", 100)  # fmt: skip
    assert body["data"][:2] == [
        {"subject": "a", "usage": 110, "remaining": 0, "has_access": False, "percent": 110},
        {"subject": "b", "usage": 60, "remaining": 40, "has_access": True, "percent": 60},
    ]
    ties = [("a", 110), ("b", 60), ("c", 60), ("d", 0)]  # b and c by subject
    assert [(r["subject"], r["usage"]) for r in body["data"]] == ties
    for row in body["data"]:
        status = api.get(f"/v1/limits/cap/status?subject={row['subject']}").json()
        assert {k: status[k] for k in row if k != "subject"} == {
            k: v for k, v in row.items() if k != "subject"
        }
    assert [r["subject"] for r in closest(api, "cap", limit=2)["data"]] == ["a", "b"]
    last_month = closest(api, "cap", at="2026-08-15T00:00:00Z")
    assert last_month["period_start"] == "2026-08-01T00:00:00Z"
    assert [(r["subject"], r["usage"]) for r in last_month["data"]] == [("b", 500)]
    assert closest(api, "cap", at="2026-11-01T00:00:00Z")["data"] == []


def test_filters_unique_counts_and_tenant_wide_limits(api: TestClient) -> None:
    api.post("/v1/limits", json={**CAP, "slug": "eu", "filter": {"region": ["eu"]}})
    assert [(r["subject"], r["usage"]) for r in closest(api, "eu")["data"]] == [
        ("b", 60), ("a", 30), ("d", 0)]  # fmt: skip
    api.post("/v1/limits", json={"slug": "seats", "meter": "users", "period": "rolling_7d",
                                 "limit": 2, "tz": "Asia/Kathmandu"})  # fmt: skip
    seats = closest(api, "seats")
    assert seats["period_start"] == "2026-08-26T00:00:00+05:45"
    assert [(r["subject"], r["usage"], r["has_access"]) for r in seats["data"]] == [
        ("a", 2, False), ("b", 1, True), ("c", 1, True), ("d", 1, True)]  # fmt: skip
    api.post("/v1/limits", json={**CAP, "slug": "all", "scope": "tenant", "limit": 460})
    whole = closest(api, "all")
    assert whole["data"] == [
        {"subject": None, "usage": 230, "remaining": 230, "has_access": True, "percent": 50}
    ]
    assert whole["data"][0]["usage"] == api.get("/v1/limits/all/status").json()["usage"]


def test_numbers_are_exact_and_a_zero_limit_has_no_percent(api: TestClient) -> None:
    huge = 10**17 + 1
    api.post("/v1/events", json=events(("e", huge, "eu", "x"), ("e", "0.1", "eu", "x"),
                                       at=FIXED_NOW - 2 * HOUR))  # fmt: skip
    api.post("/v1/limits", json={**CAP, "limit": "100000000000000002.3"})
    api.post("/v1/limits", json={**CAP, "slug": "zero", "limit": 0})
    parsed = json.loads(api.get("/v1/limits/cap/subjects?limit=1").content, parse_float=Decimal)
    [top] = parsed["data"]
    assert top["subject"] == "e" and top["usage"] == Decimal(huge) + Decimal("0.1")
    assert top["remaining"] == Decimal("1.2")
    assert [r["percent"] for r in closest(api, "zero")["data"]] == [None] * 5


def test_bad_parameters_are_400s_naming_them(api: TestClient) -> None:
    api.post("/v1/limits", json=CAP)
    for query, param in [("limit=0", "limit"), ("limit=501", "limit"), ("at=soon", "at"),
                         ("at=9999-12-31T00:00:00Z", "at")]:  # fmt: skip
        reply = api.get(f"/v1/limits/cap/subjects?{query}")
        assert reply.status_code == 400, reply.text
        assert reply.json()["error"]["param"] == param
    assert len(closest(api, "cap", limit=500)["data"]) == 4
    missing = api.get("/v1/limits/nope/subjects")
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "slug"


def test_scope_other_tenant_404_bound_key_403(api: TestClient) -> None:
    api.post("/v1/limits", json=CAP)
    api.post("/v1/limits", json={**CAP, "slug": "all", "scope": "tenant"})
    other = auth(new_tenant_key(api, "other"))
    assert api.get("/v1/limits/cap/subjects", headers=other).status_code == 404
    reader = auth(new_tenant_key(api, "default", "read"))
    assert len(api.get("/v1/limits/cap/subjects", headers=reader).json()["data"]) == 4
    bound = auth(new_tenant_key(api, "default", "read", subject="a"))
    for slug in ("cap", "all", "nope"):
        assert api.get(f"/v1/limits/{slug}/subjects", headers=bound).status_code == 403
    ingest = auth(new_tenant_key(api, "default", "ingest"))
    assert api.get("/v1/limits/cap/subjects", headers=ingest).status_code == 403
