"""One error shape for every failure: {"error": {"code", "message", "param"}}."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from usagekit.core.errors import ParamError
from usagekit.server.responses import JSON
from usagekit.services.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from usagekit.services.faults import (
    DatabaseUnavailable,
    Overloaded,
    StorageFull,
    Unavailable,
    WriterUnavailable,
    as_fault,
)

log = logging.getLogger("usagekit.server")

STATUS = {InvalidInput: 400, NotFound: 404, Conflict: 409, Forbidden: 403, WriterUnavailable: 503}
STATUS |= {DatabaseUnavailable: 503, Overloaded: 503, StorageFull: 507}
# Raised by the parts under a read (the database, the disk): classified by services.faults.
PART_ERRORS = (SQLAlchemyError, sqlite3.Error, psycopg.Error, OSError)
CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
    507: "storage_full",
}


class ApiError(Exception):
    """An error raised by a route with its HTTP status."""

    def __init__(
        self,
        status: int,
        message: str,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code or CODES.get(status, "error")
        self.headers = headers


def error_body(code: str, message: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "param": param}}


def native_error(
    status: int,
    message: str,
    param: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return JSON(error_body(code or CODES.get(status, "error"), message, param), status, headers)


# A profile's error shape: (request, status, message, param, headers) -> response.
ErrorStyle = Callable[[Request, int, str, "str | None", "dict[str, str] | None"], Response]


def install(app: FastAPI, styles: Sequence[tuple[str, ErrorStyle]] = ()) -> None:
    """Every error in one shape: the native one, or the vendor's under a profile's prefix."""

    def respond(request: Request, err: ApiError) -> Response:
        path = request.url.path
        for prefix, style in styles:
            if path.startswith(prefix):
                return style(request, err.status, err.message, err.param, err.headers)
        return native_error(err.status, err.message, err.param, err.code, err.headers)

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> Response:
        return respond(request, exc)

    @app.exception_handler(ParamError)
    async def _param(request: Request, exc: ParamError) -> Response:
        return respond(request, ApiError(400, str(exc), exc.param))

    @app.exception_handler(ServiceError)
    async def _service(request: Request, exc: ServiceError) -> Response:
        status = STATUS.get(type(exc), 503 if isinstance(exc, Unavailable) else 400)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Unavailable) else None
        return respond(request, ApiError(status, exc.message, exc.param, exc.code, headers))

    async def _part(request: Request, exc: Exception) -> Response:
        # Handled here rather than as a bare Exception (which Starlette re-raises after
        # answering: a traceback per request and a closed connection).
        fault = as_fault(exc)
        if fault is not None:
            return await _service(request, fault)
        log.error("unhandled error", exc_info=exc)
        return respond(request, ApiError(500, "internal error; the server log has the details"))

    for kind in PART_ERRORS:
        app.add_exception_handler(kind, _part)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        raw_loc = tuple(first.get("loc", ()))
        if raw_loc == ("body",) and first.get("type") in ("model_attributes_type", "dict_type"):
            message = "body: expected a JSON object; send it with Content-Type: application/json"
            return respond(request, ApiError(400, message, "body"))
        loc = [str(p) for p in raw_loc if p not in ("body", "query", "path")]
        param = ".".join(loc) or None
        message = (
            f"{param}: {first.get('msg', 'invalid')}"
            if param
            else first.get("msg", "invalid request")
        )
        return respond(request, ApiError(400, message, param))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = "no such endpoint; see /docs"
        headers = getattr(exc, "headers", None)
        return respond(request, ApiError(exc.status_code, message, headers=headers))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        return respond(request, ApiError(500, "internal error; the server log has the details"))
