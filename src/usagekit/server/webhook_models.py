"""Request and reply bodies of /v1/alerts and /v1/webhooks (also the OpenAPI schema)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from usagekit.server.models import Strict, Text

EventType = Literal["limit.threshold_crossed", "limit.threshold_cleared"]


class AlertOut(BaseModel):
    id: int
    type: str
    limit: str
    subject: str | None = Field(description="None for a tenant-wide limit")
    threshold: int | float = Field(description="percent of the limit")
    usage: int | float
    limit_value: int | float
    period_start: str
    period_end: str
    created: str


class AlertPage(BaseModel):
    data: list[AlertOut]
    next_cursor: str | None


class WebhookIn(Strict):
    url: Text = Field(max_length=2048, description="http:// or https://, no credentials")
    event_types: list[EventType] | None = Field(
        None, min_length=1, description="alert types sent; unset: every type"
    )
    description: Text | None = Field(None, max_length=1024)


class WebhookPatch(Strict):
    url: Text | None = Field(None, max_length=2048)
    event_types: list[EventType] | None = Field(None, min_length=1)
    description: Text | None = Field(None, max_length=1024)
    enabled: bool | None = None
    rotate_secret: bool = Field(False, description="make a new signing secret (shown once)")


class WebhookOut(BaseModel):
    id: str
    url: str
    description: str | None
    event_types: list[str] | None
    enabled: bool
    disabled_reason: str | None = Field(description="why it was disabled, if it failed too long")
    failing_since: str | None
    created: str
    updated: str


class NewWebhookOut(WebhookOut):
    secret: str | None = Field(
        description="the signing secret (whsec_...): shown at creation and rotation only"
    )


class AttemptOut(BaseModel):
    at: str
    status_code: int | None
    latency_ms: int
    error: str | None
    response: str | None = Field(description="the first 500 bytes of the receiver's answer")


class DeliveryOut(BaseModel):
    id: int
    alert_id: int
    webhook_id: str = Field(description="the webhook-id header: the same on every attempt")
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt: str | None
    created: str
    delivered: str | None
    tries: list[AttemptOut]


class DeliveryPage(BaseModel):
    data: list[DeliveryOut]
    next_cursor: str | None
