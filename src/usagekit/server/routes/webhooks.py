"""Webhook endpoints (admin keys): where alerts are sent, signed; their delivery logs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from usagekit.core import params
from usagekit.core.events import format_time
from usagekit.server.auth import Can, Principal, ctx, require
from usagekit.server.responses import JSON
from usagekit.server.routes.common import RowId, decode_cursor, encode_cursor, in_thread, iso
from usagekit.server.webhook_models import (
    DeliveryPage,
    NewWebhookOut,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
)
from usagekit.services import webhooks
from usagekit.services.webhooks import Delivery, Endpoint

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
WebhookId = Annotated[str, Path(max_length=64)]


def webhook_json(e: Endpoint) -> dict[str, Any]:
    return {
        "id": e.id,
        "url": e.url,
        "description": e.description,
        "event_types": e.event_types,
        "enabled": e.enabled,
        "disabled_reason": e.disabled_reason,
        "failing_since": iso(e.failing_since_ms),
        "created": format_time(e.created_ms),
        "updated": format_time(e.updated_ms),
    }


def delivery_json(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "alert_id": d.alert_id,
        "webhook_id": f"msg_{d.alert_id}",
        "status": d.status,
        "attempts": d.attempts,
        "next_attempt": iso(d.next_attempt_ms),
        "created": format_time(d.created_ms),
        "delivered": iso(d.delivered_ms),
        "tries": [
            {
                "at": format_time(t.at_ms),
                "status_code": t.status_code,
                "latency_ms": t.latency_ms,
                "error": t.error,
                "response": t.response,
            }
            for t in d.tries
        ],
    }


def with_secret(request: Request, e: Endpoint, shown: bool) -> dict[str, Any]:
    key = ctx(request).webhook_key(e.id, e.secret_version)
    return {**webhook_json(e), "secret": webhooks.signing_secret(key) if shown else None}


@router.post("", status_code=201, response_model=NewWebhookOut)
async def create_webhook(
    request: Request, body: WebhookIn, who: Annotated[Principal, Depends(require(Can.MANAGE))]
) -> Response:
    """A new endpoint: it gets every alert made from now on. Its signing `secret` is in
    this reply only (rotate it with PATCH `rotate_secret`)."""
    context = ctx(request)
    made = await context.writer.run(
        webhooks.create_endpoint,
        who.caller,
        body.url,
        body.description,
        None if body.event_types is None else [str(t) for t in body.event_types],
        context.settings.webhook_allow_link_local,
    )
    return JSON(with_secret(request, made, True), 201)


@router.get("", response_model=list[WebhookOut])
async def list_webhooks(
    request: Request, who: Annotated[Principal, Depends(require(Can.MANAGE))]
) -> Response:
    found = await in_thread(webhooks.list_endpoints, ctx(request).store, who.caller)
    return JSON([webhook_json(e) for e in found])


@router.get("/{webhook_id}", response_model=WebhookOut)
async def get_webhook(
    request: Request,
    webhook_id: WebhookId,
    who: Annotated[Principal, Depends(require(Can.MANAGE))],
) -> Response:
    params.text(webhook_id, "webhook_id", 64)
    found = await in_thread(webhooks.get_endpoint, ctx(request).store, who.caller, webhook_id)
    return JSON(webhook_json(found))


@router.patch("/{webhook_id}", response_model=NewWebhookOut)
async def update_webhook(
    request: Request,
    webhook_id: WebhookId,
    body: WebhookPatch,
    who: Annotated[Principal, Depends(require(Can.MANAGE))],
) -> Response:
    """Change what is given. `enabled: true` re-enables (clearing the reason it was
    disabled); `rotate_secret: true` makes a new secret, in this reply only."""
    params.text(webhook_id, "webhook_id", 64)
    context = ctx(request)
    changes: dict[str, Any] = {
        k: v for k, v in body.model_dump(exclude_unset=True).items() if k != "rotate_secret"
    }
    for name in ("url", "enabled"):
        if name in changes and changes[name] is None:
            changes.pop(name)
    changes["rotate"] = body.rotate_secret
    found = await context.writer.run(
        webhooks.update_endpoint,
        who.caller,
        webhook_id,
        changes,
        context.settings.webhook_allow_link_local,
    )
    return JSON(with_secret(request, found, body.rotate_secret))


@router.delete("/{webhook_id}", status_code=204)
async def delete_webhook(
    request: Request,
    webhook_id: WebhookId,
    who: Annotated[Principal, Depends(require(Can.MANAGE))],
) -> Response:
    params.text(webhook_id, "webhook_id", 64)
    await ctx(request).writer.run(webhooks.delete_endpoint, who.caller, webhook_id)
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryPage)
async def list_deliveries(
    request: Request,
    webhook_id: WebhookId,
    who: Annotated[Principal, Depends(require(Can.MANAGE))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
) -> Response:
    """Deliveries newest first, each with its attempts (status, latency, answer)."""
    params.text(webhook_id, "webhook_id", 64)
    after = decode_cursor(cursor, 1)[0] if cursor else None
    page = await in_thread(
        webhooks.deliveries,
        ctx(request).store,
        who.caller,
        webhook_id,
        after_id=after,
        limit=limit,
    )
    return JSON(
        {
            "data": [delivery_json(d) for d in page.rows],
            "next_cursor": encode_cursor(page.rows[-1].id) if page.more else None,
        }
    )


@router.post("/{webhook_id}/deliveries/{delivery_id}/retry", status_code=202)
async def retry_delivery(
    request: Request,
    webhook_id: WebhookId,
    delivery_id: RowId,
    who: Annotated[Principal, Depends(require(Can.MANAGE))],
) -> Response:
    """Send a delivery again now (one more attempt if it had failed)."""
    params.text(webhook_id, "webhook_id", 64)
    context = ctx(request)
    now = context.deliverer.clock.now_ms()
    await context.writer.run(webhooks.retry_delivery, who.caller, webhook_id, delivery_id, now)
    context.deliverer.wake()
    return Response(status_code=202)
