"""/openapi.json says what the server does: who needs a key, which statuses, which names.

Each operation is taken from the document itself and called on the app (a real
SQLite file): without a key it answers 401 exactly when the document declares
`security`; a bad value of each parameter answers a documented 400 naming it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_KEY
from tests.test_reply_contracts import native_routes
from usagekit.server.app import create_app
from usagekit.server.settings import Settings

# A value for each path parameter that names something real (or that needs none).
PATH_VALUES = {"slug": "cpu", "failure_id": "1", "key_id": "key_nope", "kind": "users",
               "subject": "alice", "webhook_id": "wh_nope", "delivery_id": "1"}  # fmt: skip
# Bodies for the operations whose path parameters are tried (the body is checked first).
VALID_BODIES = {"register_names": {"names": ["a"]}, "unregister_names": {"names": ["a"]},
                "update_limit": {"description": "x"}, "update_webhook": {}}  # fmt: skip
METER = {"slug": "cpu", "event_type": "job", "aggregation": "sum", "value_property": "cpu"}


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app on a SQLite file of its own, no key sent unless a test sends one."""
    db = tmp_path_factory.mktemp("openapi") / "api.db"
    settings = Settings(
        db=f"sqlite:///{db}",
        bootstrap_key=ADMIN_KEY,
        key_cache_seconds=0,
        writer="thread",
        auth_failure_limit=0.0,
    )
    with TestClient(create_app(settings)) as client:
        made = client.post("/v1/meters", json=METER, headers=admin())
        assert made.status_code == 201, made.text
        yield client


@pytest.fixture(scope="module")
def spec(app_client: TestClient) -> dict[str, Any]:
    document: dict[str, Any] = app_client.get("/openapi.json").json()
    return document


def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_KEY}"}


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            yield method, path, op


def url_of(path: str, **values: str) -> str:
    return path.format(**{**PATH_VALUES, **values})


def test_the_bearer_scheme_is_declared(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert [s for s in schemes.values() if s == {**s, "type": "http", "scheme": "bearer"}]


def test_every_operation_needs_a_key_exactly_when_it_says_so(
    app_client: TestClient, spec: dict[str, Any]
) -> None:
    secured = []
    for method, path, op in operations(spec):
        declared = bool(op.get("security"))
        for headers in ({}, {"Authorization": "Bearer uk_not_a_key"}):
            reply = app_client.request(method, url_of(path), headers=headers)
            assert (reply.status_code == 401) == declared, (method, path, reply.text)
            if declared:
                assert reply.headers["WWW-Authenticate"] == "Bearer"
        assert ("401" in op["responses"]) == declared, (method, path)
        secured.append(declared)
    assert any(secured) and not all(secured)


def test_the_routes_without_a_key_are_the_public_ones(spec: dict[str, Any]) -> None:
    public = {(m, p) for m, p, op in operations(spec) if not op.get("security")}
    assert public == {("get", "/healthz")}


def test_operation_ids_are_the_route_names(spec: dict[str, Any]) -> None:
    """Good method names in a generated client: one per route, unique, no path in them."""
    described = [r for r in native_routes() if r.include_in_schema]
    # Prometheus' text is left out of the document (a scraper, not a client, reads it).
    assert {r.path for r in native_routes()} - {r.path for r in described} == {"/metrics"}
    routes = {(m.lower(), r.path): r for r in described for m in r.methods}
    ids = [op["operationId"] for _, _, op in operations(spec)]
    assert len(ids) == len(set(ids)) == len(routes)
    for method, path, op in operations(spec):
        assert op["operationId"] == routes[(method, path)].name


def bad_value(param: dict[str, Any]) -> str:
    """A value the parameter's own parser refuses: not a number, or a NUL character."""
    schema = param["schema"]
    if schema.get("type") == "integer":
        return "0" if param["in"] == "path" else "x"
    if "enum" in schema or "enum" in schema.get("items", {}):
        return "fortnight"
    return "\x00"


def test_a_bad_parameter_is_a_documented_400_naming_it(
    app_client: TestClient, spec: dict[str, Any]
) -> None:
    """A path parameter that is a name may instead be a 404 naming it: no such thing."""
    tried = 0
    for method, path, op in operations(spec):
        body = VALID_BODIES.get(op["operationId"])
        for param in op.get("parameters", []):
            name, bad = param["name"], bad_value(param)
            if param["in"] == "path":
                url, query = url_of(path, **{name: bad.replace("\x00", "%00")}), {}
                allowed = {400, 404} if param["schema"].get("type") == "string" else {400}
            else:
                url, query, allowed = url_of(path), {name: bad}, {400}
            reply = app_client.request(method, url, params=query, json=body, headers=admin())
            assert reply.status_code in allowed, (method, path, name, reply.text)
            assert reply.json()["error"]["param"] == name, (method, path, reply.text)
            assert str(reply.status_code) in op["responses"], (method, path)
            tried += 1
        if "requestBody" in op:
            for sent in (b"42", b""):
                reply = app_client.request(
                    method,
                    url_of(path),
                    content=sent,
                    headers={**admin(), "Content-Type": "application/json"},
                )
                assert reply.status_code == 400, (method, path, sent, reply.text)
                assert reply.json()["error"]["param"] == "body", (method, path, reply.text)
                tried += 1
            assert "400" in op["responses"], (method, path)
    assert tried >= 45


def test_no_status_is_documented_that_fastapi_would_answer_instead(spec: dict[str, Any]) -> None:
    """usagekit answers 400 with its own shape where FastAPI would say 422."""
    assert "422" not in str(spec["paths"])
    assert "ValidationError" not in str(spec["components"])
