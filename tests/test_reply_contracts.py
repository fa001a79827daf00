"""Every reply of every native route is exactly its declared response_model.

Routes serialise with orjson (fast for long series and event pages), so the models in
server/models.py, which are the OpenAPI schema, are checked here against real replies
over a seeded database: each reply must validate and must be what the model would
write back (no field missing, none extra, none of another type). The SDK's result
classes (client/models.py) are checked against the same models, field by field.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from decimal import Decimal
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import BaseModel, TypeAdapter
from starlette.routing import Match

import usagekit.server.routes
from usagekit.client import limits as sdk_limits
from usagekit.client import models as sdk
from usagekit.client import webhook_models as hooks_sdk
from usagekit.server import models as wire
from usagekit.server import webhook_models as hooks_wire
from usagekit.server.profiles import profiles
from usagekit.store.alerts import CROSSED, AlertRow, record

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def native_routes() -> list[APIRoute]:
    """Every route of every module of usagekit.server.routes (one router each), and the
    routes profiles serve in usagekit's own shape (AMIE's /v1/registry)."""
    found: list[APIRoute] = []
    for info in pkgutil.iter_modules(usagekit.server.routes.__path__, "usagekit.server.routes."):
        router = getattr(importlib.import_module(info.name), "router", None)
        if router is not None:
            found += [r for r in router.routes if isinstance(r, APIRoute)]
    for routes in profiles():
        for router in routes.native:
            found += [r for r in router.routes if isinstance(r, APIRoute)]
    return found


class Contracts:
    """Checks each reply against the response_model of the route that answered it."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.routes = native_routes()
        self.seen: set[tuple[str, str]] = set()

    def route_of(self, reply: Response) -> APIRoute:
        scope = {"type": "http", "path": reply.request.url.path, "method": reply.request.method}
        for route in self.routes:
            if route.matches(scope)[0] is Match.FULL:
                return route
        raise AssertionError(f"no native route answers {scope}")

    def __call__(self, method: str, path: str, status: int, **kw: Any) -> Any:
        reply = self.client.request(method, path, **kw)
        assert reply.status_code == status, reply.text
        route = self.route_of(reply)
        self.seen.add((method, route.path))
        if route.response_model is None:
            return None
        body = reply.json()
        model: TypeAdapter[Any] = TypeAdapter(route.response_model)
        parsed = model.validate_python(body, strict=True)
        assert model.dump_python(parsed, mode="json", by_alias=True) == body, route.path
        return body


@pytest.fixture
def check(client: TestClient) -> Contracts:
    return Contracts(client)


def event(i: int, **kw: Any) -> dict[str, Any]:
    return {
        "id": f"e{i}",
        "type": "job",
        "subject": "alice" if i % 2 else "bob",
        "time": T0 + i * 3_600_000,
        "data": {"cpu": i, "project": f"p{i % 3}"},
        **kw,
    }


def test_every_native_reply_is_its_response_model(check: Contracts) -> None:
    check("POST", "/v1/tenants", 201, json={"name": "acme"})
    check("GET", "/v1/tenants", 200)
    made = check("POST", "/v1/keys", 201, json={"role": "read", "subject": "alice"})
    check("GET", "/v1/keys", 200)
    check("DELETE", f"/v1/keys/{made['id']}", 204)

    meter = {
        "slug": "cpu",
        "event_type": "job",
        "aggregation": "sum",
        "value_property": "cpu",
        "dimensions": {"project": "project"},
        "unit": "s",
    }
    check("POST", "/v1/meters", 201, json=meter)
    check("GET", "/v1/meters", 200)
    check("GET", "/v1/meters/cpu", 200)

    bad = {"id": "bad", "type": "job", "subject": "alice", "time": "yesterday"}
    sent = check("POST", "/v1/events", 202, json=[*(event(i) for i in range(6)), bad])
    assert sent["accepted"] == 6 and len(sent["rejected"]) == 1
    conflicting = check("POST", "/v1/events", 202, json=[event(1, data={"cpu": 99})])
    assert conflicting["conflicts"] == 1
    check("POST", "/v1/events/void", 200, json={"ids": ["e0", "nope"]})

    first = check("GET", "/v1/events", 200, params={"limit": 2})
    assert first["next_cursor"] is not None
    check("GET", "/v1/events", 200, params={"limit": 2, "cursor": first["next_cursor"]})
    window = {"from": str(T0), "to": str(T0 + 86_400_000)}
    check("GET", "/v1/meters/cpu/query", 200, params={**window, "granularity": "hour"})
    series = check("GET", "/v1/meters/cpu/query", 200, params={**window, "group_by": "project"})
    assert {p["group"]["project"] for p in series["data"]} == {"p0", "p1", "p2"}
    summary = check("GET", "/v1/usage/summary", 200, params={**window, "group_by": "subject"})
    assert {r["group"]["subject"] for r in summary["data"]} == {"alice", "bob"}
    check("GET", "/v1/ingestion", 200, params={"from": str(T0), "to": str(T0 + 7_200_000)})

    failures = check("GET", "/v1/failures", 200, params={"limit": 1})
    assert failures["next_cursor"] is not None
    check("GET", "/v1/failures", 200, params={"cursor": failures["next_cursor"]})
    failure_id = failures["data"][0]["id"]
    retried = check("POST", f"/v1/failures/{failure_id}/retry", 200)
    assert retried["cleared"] is False
    check("DELETE", f"/v1/failures/{failure_id}", 204)

    check("GET", "/v1/registry", 200)
    check("POST", "/v1/registry/users", 200, json={"names": ["alice"]})
    check("POST", "/v1/registry/users/remove", 200, json={"names": ["alice"]})
    check("POST", "/v1/registry/retry", 200)
    check("GET", "/healthz", 200)
    check("GET", "/metrics", 200)
    check("GET", "/v1/events/export", 200)
    limit = {"slug": "cap", "meter": "cpu", "period": "month", "tz": "Asia/Kathmandu",
             "limit": "12345678901234567.123456789", "thresholds": [50, 100]}  # fmt: skip
    check("POST", "/v1/limits", 201, json=limit)
    whole = {"slug": "all", "meter": "cpu", "period": "day", "limit": 0.5, "scope": "tenant"}
    check("POST", "/v1/limits", 201, json=whole)
    check("GET", "/v1/limits", 200)
    check("GET", "/v1/limits/cap", 200)
    check("PATCH", "/v1/limits/cap", 200, json={"limit": 9, "description": "nine"})
    at = {"at": str(T0 + 3_600_000)}
    status = check("GET", "/v1/limits/cap/status", 200, params={**at, "subject": "alice"})
    assert status["usage"] == 9 and status["has_access"] is False  # alice: 1 + 3 + 5
    assert status["thresholds_reached"] == [50, 100]
    check("GET", "/v1/limits/all/status", 200, params=at)
    closest = check("GET", "/v1/limits/cap/subjects", 200, params=at)
    assert closest["data"][0] == {k: status[k] for k in closest["data"][0]}
    check("GET", "/v1/limits/all/subjects", 200, params=at)
    both = check("GET", "/v1/subjects/alice/limits", 200, params=at)
    assert [s["slug"] for s in both] == ["cap", "all"]
    check("DELETE", "/v1/limits/cap", 204)
    check("DELETE", "/v1/limits/all", 204)
    check("DELETE", "/v1/meters/cpu", 204)
    webhook_replies(check)

    declared = {(m, r.path) for r in check.routes for m in r.methods}
    assert declared - check.seen == set(), "a native route was not exercised"


def webhook_replies(check: Contracts) -> None:
    """/v1/alerts over alerts written as the writer would, and every /v1/webhooks route."""
    store = check.client.app.state.ctx.store  # type: ignore[attr-defined]
    tenant = store.accounts.tenant_by_name("default")
    rows = [
        AlertRow(tenant.id, CROSSED, 1, "calls", subject, threshold, usage, 1000, T0,
                 T0 + 86_400_000, T0 + i)
        for i, (subject, threshold, usage) in enumerate(
            [("alice", 80, 800), (None, 100, Decimal("1000.5")), ("bob", 50, 0.5)]
        )
    ]  # fmt: skip
    with store.events.write_engine.begin() as conn:
        record(conn, rows)
    page = check("GET", "/v1/alerts", 200, params={"limit": 2})
    assert [a["subject"] for a in page["data"]] == ["bob", None]
    check("GET", "/v1/alerts", 200, params={"cursor": page["next_cursor"], "subject": "alice"})
    made = check("POST", "/v1/webhooks", 201, json={"url": "http://127.0.0.1:9/h"})
    hook = f"/v1/webhooks/{made['id']}"
    check("GET", "/v1/webhooks", 200)
    check("GET", hook, 200)
    check("PATCH", hook, 200, json={"enabled": False, "rotate_secret": True})
    store.deliveries.fan_out(T0)  # none: the endpoint is off
    check("PATCH", hook, 200, json={"enabled": True})
    with store.events.write_engine.begin() as conn:
        record(conn, rows[:1])
    assert store.deliveries.fan_out(T0) == 1
    listed = check("GET", f"{hook}/deliveries", 200)
    check("POST", f"{hook}/deliveries/{listed['data'][0]['id']}/retry", 202)
    check("DELETE", hook, 204)


# The SDK's names for fields the wire spells otherwise, and its own additions.
RENAMED = {"from_": "start", "to": "end"}
SDK_ONLY = {
    sdk.Rejection: {"record"},  # what the caller passed, kept for re-sending
    sdk.SendResult: {"requests"},  # how many requests one send took
}
PAIRS: list[tuple[type[Any], type[BaseModel]]] = [
    (sdk.Event, wire.EventOut),
    (sdk.Rejection, wire.Rejection),
    (sdk.SendResult, wire.IngestOut),
    (sdk.Meter, wire.MeterOut),
    (sdk.UsagePoint, wire.PointOut),
    (sdk.QueryResult, wire.QueryOut),
    (sdk.SummaryRow, wire.SummaryRow),
    (sdk.Summary, wire.SummaryOut),
    (sdk.VoidResult, wire.VoidOut),
    (sdk.Failure, wire.FailureOut),
    (sdk.RetryResult, wire.RetryOut),
    (sdk.Tenant, wire.TenantOut),
    (sdk.ApiKey, wire.NewKeyOut),
    (sdk_limits.Limit, wire.LimitOut),
    (sdk_limits.LimitStatus, wire.LimitStatusOut),
    (sdk_limits.LimitSubject, wire.LimitSubjectOut),
    (sdk_limits.LimitSubjects, wire.LimitSubjectsOut),
    (hooks_sdk.Alert, hooks_wire.AlertOut),
    (hooks_sdk.Webhook, hooks_wire.NewWebhookOut),
    (hooks_sdk.WebhookDelivery, hooks_wire.DeliveryOut),
    (hooks_sdk.DeliveryAttempt, hooks_wire.AttemptOut),
]


@pytest.mark.parametrize(("ours", "theirs"), PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_the_sdk_models_carry_every_reply_field(ours: type[Any], theirs: type[BaseModel]) -> None:
    sdk_fields = {f.name for f in dataclasses.fields(ours)} - SDK_ONLY.get(ours, set())
    wire_fields = {RENAMED.get(name, name) for name in theirs.model_fields}
    assert sdk_fields == wire_fields


def test_the_sdk_adds_up_failures_not_kept_over_requests() -> None:
    reply = {"accepted": 1, "duplicates": 0, "conflicts": 0, "rejected": [], "conflicting": []}
    result = sdk.SendResult.from_json({**reply, "failures_not_kept": 3})
    result.merge({**reply, "failures_not_kept": 4})
    assert (result.failures_not_kept, result.accepted, result.requests) == (7, 2, 2)
