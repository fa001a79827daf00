"""The Python SDK: `Client` (blocking) and `AsyncClient`, one base without I/O."""

from usagekit.client.aio import AsyncClient
from usagekit.client.base import RetryPolicy
from usagekit.client.limits import Limit, LimitStatus
from usagekit.client.models import (
    ApiKey,
    Event,
    Failure,
    Meter,
    QueryResult,
    Rejection,
    RetryResult,
    SendResult,
    Summary,
    SummaryRow,
    Tenant,
    UsagePoint,
    VoidResult,
)
from usagekit.client.sync import Client

__all__ = [
    "ApiKey",
    "AsyncClient",
    "Client",
    "Event",
    "Failure",
    "Limit",
    "LimitStatus",
    "Meter",
    "QueryResult",
    "Rejection",
    "RetryPolicy",
    "RetryResult",
    "SendResult",
    "Summary",
    "SummaryRow",
    "Tenant",
    "UsagePoint",
    "VoidResult",
]
