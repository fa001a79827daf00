"""The Python SDK: `Client` (blocking) and `AsyncClient`, one base without I/O."""

from usagekit.client.aio import AsyncClient
from usagekit.client.base import RetryPolicy
from usagekit.client.limits import Limit, LimitStatus, LimitSubject, LimitSubjects
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
from usagekit.client.webhook_models import Alert, DeliveryAttempt, Webhook, WebhookDelivery

__all__ = [
    "Alert",
    "ApiKey",
    "AsyncClient",
    "Client",
    "DeliveryAttempt",
    "Event",
    "Failure",
    "Limit",
    "LimitStatus",
    "LimitSubject",
    "LimitSubjects",
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
    "Webhook",
    "WebhookDelivery",
]
