"""Typed results of /v1/alerts and /v1/webhooks, built from their JSON replies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from usagekit.client.models import Number, _maybe_time, _time


@dataclass(frozen=True, slots=True)
class Alert:
    """A limit threshold crossed or cleared (`subject` None for a tenant-wide limit)."""

    id: int
    type: str
    limit: str
    subject: str | None
    threshold: Number
    usage: Number
    limit_value: Number
    period_start: datetime
    period_end: datetime
    created: datetime

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Alert:
        return cls(
            d["id"], d["type"], d["limit"], d.get("subject"), d["threshold"], d["usage"],
            d["limit_value"], _time(d["period_start"]), _time(d["period_end"]),
            _time(d["created"]),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Webhook:
    """An endpoint alerts are sent to; `secret` only on creation and rotation."""

    id: str
    url: str
    description: str | None
    event_types: list[str] | None
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    created: datetime
    updated: datetime
    secret: str | None = None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Webhook:
        return cls(
            d["id"], d["url"], d.get("description"), d.get("event_types"), d["enabled"],
            d.get("disabled_reason"), _maybe_time(d.get("failing_since")), _time(d["created"]),
            _time(d["updated"]), d.get("secret"),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None
    response: str | None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> DeliveryAttempt:
        return cls(
            _time(d["at"]), d.get("status_code"), d["latency_ms"], d.get("error"),
            d.get("response"),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One alert for one endpoint: pending, delivered or failed, with its attempts."""

    id: int
    alert_id: int
    webhook_id: str
    status: str
    attempts: int
    next_attempt: datetime | None
    created: datetime
    delivered: datetime | None
    tries: list[DeliveryAttempt] = field(default_factory=list)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> WebhookDelivery:
        return cls(
            d["id"], d["alert_id"], d["webhook_id"], d["status"], d["attempts"],
            _maybe_time(d.get("next_attempt")), _time(d["created"]),
            _maybe_time(d.get("delivered")), [DeliveryAttempt.from_json(t) for t in d["tries"]],
        )  # fmt: skip
