"""The alerts and webhook operations, once, as generators of `Call`s (as client.ops)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from usagekit.client.base import BaseClient, Call, Op
from usagekit.client.ops import _json, _load, _seg
from usagekit.client.webhook_models import Webhook, WebhookDelivery


def webhooks(client: BaseClient) -> Op[list[Webhook]]:
    """The tenant's webhook endpoints (admin keys)."""
    reply = yield Call("GET", "/v1/webhooks")
    return [Webhook.from_json(w) for w in _load(reply)]


def get_webhook(client: BaseClient, webhook_id: str) -> Op[Webhook]:
    reply = yield Call("GET", f"/v1/webhooks/{_seg(webhook_id)}")
    return Webhook.from_json(_load(reply))


def create_webhook(
    client: BaseClient,
    url: str,
    event_types: Sequence[str] | None = None,
    description: str | None = None,
) -> Op[Webhook]:
    """A new endpoint; its signing secret (`.secret`, whsec_...) is shown only this once."""
    body: dict[str, Any] = {"url": url}
    if event_types is not None:
        body["event_types"] = list(event_types)
    if description is not None:
        body["description"] = description
    reply = yield Call("POST", "/v1/webhooks", body=_json(body), idempotent=False)
    return Webhook.from_json(_load(reply))


def update_webhook(
    client: BaseClient,
    webhook_id: str,
    *,
    url: str | None = None,
    event_types: Sequence[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
    rotate_secret: bool = False,
) -> Op[Webhook]:
    """Change what is given; `rotate_secret=True` returns the new secret in `.secret`."""
    body: dict[str, Any] = {
        k: v
        for k, v in (("url", url), ("description", description), ("enabled", enabled))
        if v is not None
    }
    if event_types is not None:
        body["event_types"] = list(event_types)
    if rotate_secret:
        body["rotate_secret"] = True
    reply = yield Call(
        "PATCH", f"/v1/webhooks/{_seg(webhook_id)}", body=_json(body), idempotent=not rotate_secret
    )
    return Webhook.from_json(_load(reply))


def delete_webhook(client: BaseClient, webhook_id: str) -> Op[None]:
    yield Call("DELETE", f"/v1/webhooks/{_seg(webhook_id)}")


def webhook_deliveries(
    client: BaseClient, webhook_id: str, limit: int = 100
) -> Op[list[WebhookDelivery]]:
    """An endpoint's newest deliveries, each with its attempts."""
    reply = yield Call(
        "GET", f"/v1/webhooks/{_seg(webhook_id)}/deliveries", params=[("limit", str(limit))]
    )
    return [WebhookDelivery.from_json(d) for d in _load(reply)["data"]]


def retry_delivery(client: BaseClient, webhook_id: str, delivery_id: int) -> Op[None]:
    """Send a delivery again now."""
    yield Call("POST", f"/v1/webhooks/{_seg(webhook_id)}/deliveries/{int(delivery_id)}/retry")


def alerts_params(
    subject: str | None, type: str | None, limit: str | None, page_size: int
) -> list[tuple[str, str]]:
    params = [("limit", str(page_size))]
    given = (("subject", subject), ("type", type), ("limit_slug", limit))
    return params + [(k, v) for k, v in given if v is not None]
