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
from usagekit.services import metrics
from usagekit.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from usagekit.services.faults import StorageFull, Unavailable, as_fault
from usagekit.store.errors import AlreadyExists

log = logging.getLogger("usagekit.server")

# The one table from an error a request can end in to its HTTP status. A class not
# listed takes its nearest listed ancestor's (status_of walks the class hierarchy).
STATUS: dict[type[Exception], int] = {
    ParamError: 400,  # core: InvalidMeter, WindowError, and every parameter parser
    InvalidInput: 400,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    AlreadyExists: 409,
    Unavailable: 503,  # with Retry-After: DatabaseUnavailable, WriterUnavailable, Overloaded
    StorageFull: 507,
}
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


def status_of(kind: type[BaseException]) -> int | None:
    """The status of an error class: its nearest class in STATUS; None if it has none."""
    for ancestor in kind.__mro__:
        status = STATUS.get(ancestor)
        if status is not None:
            return status
    return None


def as_api_error(exc: Exception) -> ApiError | None:
    """An error of the STATUS table as the ApiError that answers it (None for others)."""
    status = status_of(type(exc))
    if status is None:
        return None
    retry = exc.retry_after if isinstance(exc, Unavailable) else None
    return ApiError(
        status,
        getattr(exc, "message", None) or str(exc),
        getattr(exc, "param", None),
        getattr(exc, "code", None) or CODES.get(status),
        {"Retry-After": str(retry)} if retry is not None else None,
    )


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

    internal = "internal error; the server log has the details"

    async def _known(request: Request, exc: Exception) -> Response:
        # Registered for the classes of STATUS only, so as_api_error always answers.
        if isinstance(exc, Unavailable):
            metrics.count_fault(exc)
        return respond(request, as_api_error(exc) or ApiError(500, internal))

    async def _part(request: Request, exc: Exception) -> Response:
        # Handled here rather than as a bare Exception (which Starlette re-raises after
        # answering: a traceback per request and a closed connection).
        fault = as_fault(exc)
        if fault is not None:
            metrics.count_fault(fault)
            return respond(request, as_api_error(fault) or ApiError(503, fault.message))
        log.error("unhandled error", exc_info=exc)
        return respond(request, ApiError(500, internal))

    for kind in STATUS:
        app.add_exception_handler(kind, _known)
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
        param = ".".join(loc) or ("body" if raw_loc == ("body",) else None)
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
        # Starlette raises it again after this answer: server.observe logs it, once.
        return respond(request, ApiError(500, "internal error; the server log has the details"))
