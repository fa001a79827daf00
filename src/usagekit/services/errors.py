"""Errors the services raise; the server maps each kind to one HTTP status."""

from __future__ import annotations

from usagekit.core.errors import ParamError
from usagekit.store.errors import StoreError


class ServiceError(Exception):
    code = "error"

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param

    def __reduce__(self) -> tuple[type[ServiceError], tuple[str, str | None]]:
        # Crosses the writer process boundary with its param intact.
        return (type(self), (self.message, self.param))


class InvalidInput(ServiceError):
    code = "invalid_request"


class NotFound(ServiceError):
    code = "not_found"


class Conflict(ServiceError):
    code = "conflict"


class Forbidden(ServiceError):
    code = "forbidden"


# Errors that answer a request rather than reveal a bug: they cross the writer
# process as they are, and server.errors gives each its status.
REQUEST_ERRORS = (ServiceError, StoreError, ParamError)
