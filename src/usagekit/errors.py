"""The SDK's exceptions (`usagekit.errors.*`); all derive from UsagekitError."""

from usagekit.client.errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TransportError,
    UsagekitError,
    ValidationError,
)

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
