"""The SDK's exceptions (`usagekit.errors.*`): one class per kind of failure, never raw httpx."""

from __future__ import annotations

from typing import Any

import orjson


class UsagekitError(Exception):
    """Base of every SDK error."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.param = param

    def __str__(self) -> str:
        where = f" (param: {self.param})" if self.param else ""
        status = f"{self.status} " if self.status else ""
        return f"{status}{self.message}{where}"


class ConfigurationError(UsagekitError):
    """A setting is missing or unusable (URL, API key); the message names it."""


class TransportError(UsagekitError):
    """The server could not be reached, or the connection broke (after any retries)."""


class APIError(UsagekitError):
    """The server answered with an error status."""


class ValidationError(APIError):
    """400, 413 or 422: the request was refused; `.param` names the culprit when known."""


class AuthenticationError(APIError):
    """401: the API key is missing or unknown."""


class PermissionDeniedError(APIError):
    """403: the key lacks the role, tenant or subject for this call."""


class NotFoundError(APIError):
    """404: no such meter, key, failure or route."""


class ConflictError(APIError):
    """409: the thing already exists (a meter slug, a tenant name)."""


class RateLimitError(APIError):
    """429 after the retries ran out; `.retry_after` is the server's hint in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the server failed or is unavailable (after any retries)."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: ValidationError,
    422: ValidationError,
    429: RateLimitError,
}


def retry_after_seconds(value: str | None) -> float | None:
    """The Retry-After header as seconds (only the delta-seconds form is used by usagekit)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def from_response(status: int, content: bytes, headers: Any) -> APIError:
    """The error for a reply: usagekit's {"error": {...}} shape, or whatever text came back."""
    code = param = None
    message = ""
    try:
        body = orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        code, message, param = err.get("code"), str(err.get("message") or ""), err.get("param")
    elif isinstance(body, dict) and "detail" in body:  # problem details, FastAPI-style
        message = str(body["detail"])
    elif isinstance(body, dict) and "errorDescription" in body:  # the Civis profile
        message = str(body["errorDescription"])
    elif isinstance(body, dict) and isinstance(body.get("message"), str):  # LaunchDarkly
        code, message = body.get("code"), body["message"]
    if not message:
        message = content.decode("utf-8", "replace")[:500] or f"HTTP {status}"
    kind = _BY_STATUS.get(status) or (ServerError if status >= 500 else APIError)
    if kind is RateLimitError:
        return RateLimitError(
            message,
            retry_after=retry_after_seconds(headers.get("retry-after")),
            status=status,
            code=code,
            param=param,
        )
    return kind(message, status=status, code=code, param=param)


__all__ = [
    "APIError",
    "AuthenticationError",
    "ConfigurationError",
    "ConflictError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "TransportError",
    "UsagekitError",
    "ValidationError",
]
