"""The OpenAPI document as the server really answers: its error shape and statuses.

FastAPI documents a 422 with its own body for every route with parameters;
usagekit answers 400 with {"error": {...}} instead (server.errors). This
replaces those entries, and documents the statuses each kind of route can give.
Operation ids are the route functions' names, so generated clients get good method
names (`create_meter`, `query_meter`).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from usagekit.server import swagger_ui
from usagekit.server.models import Error, EventBatch, EventIn

# Schemas no route names through FastAPI: the error shape, and the events body (read raw).
COMPONENTS: tuple[type[BaseModel], ...] = (Error, EventIn, EventBatch)
_RETRY_AFTER = {"Retry-After": {"schema": {"type": "string"}, "description": "seconds"}}
_WHY = {
    "400": "a parameter or the body is invalid; `param` names it",
    "401": "no API key, or an unknown or revoked one",
    "403": "the key's role, tenant or subject does not allow this",
    "404": "no such meter, limit, key, failure or registry list",
    "409": "it already exists",
    "413": "the body is over the size limit",
    "429": "too many requests; retry after Retry-After seconds",
    "503": "the writer or the database is unavailable for now; retry after Retry-After",
    "507": "the database's storage is full; retry after Retry-After",
}
# Routes that create something with a unique name.
_CONFLICTS = {
    ("post", "/v1/tenants"),
    ("post", "/v1/meters"),
    ("post", "/v1/limits"),
    ("delete", "/v1/meters/{slug}"),  # while limits use it
}
# Routes without a path parameter that name something that may not exist (a tenant).
_MISSING = {("post", "/v1/keys"), ("post", "/v1/limits")}  # a tenant; a meter


def statuses(method: str, path: str, op: dict[str, Any]) -> list[str]:
    """The error statuses an operation can answer, besides its successes."""
    if not op.get("security"):  # /healthz: its 503 is its own reply (HealthDown)
        return []
    found = ["400", "401", "403", "429", "503"]
    if "{" in path or (method, path) in _MISSING:
        found.append("404")
    if (method, path) in _CONFLICTS:
        found.append("409")
    if "requestBody" in op or method == "post":
        found += ["413", "507"]
    if method == "delete":
        found.append("507")
    return sorted(set(found))


def error_response(status: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _WHY[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if status in ("429", "503", "507"):
        response["headers"] = _RETRY_AFTER
    return response


def document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document with usagekit's errors in place of the 422s."""
    spec = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.update(component_schemas())
    for path, ops in spec.get("paths", {}).items():
        for method, op in ops.items():
            responses = op.setdefault("responses", {})
            responses.pop("422", None)
            for status in statuses(method, path, op):
                responses[status] = error_response(status)
    return spec


def component_schemas() -> dict[str, Any]:
    """COMPONENTS as JSON Schema, each referring to the others as components."""
    _, found = models_json_schema(
        [(model, "validation") for model in COMPONENTS],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = found["$defs"]
    return schemas


def operation_id(route: APIRoute) -> str:
    """A route's operation id: its function's name (FastAPI warns of a duplicate)."""
    return route.name


def install(app: FastAPI) -> None:
    """Serve `document(app)` at /openapi.json (made once, on first request), and Swagger
    UI at /docs (the app is made with docs_url=None, redoc_url=None)."""
    app.include_router(swagger_ui.router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
