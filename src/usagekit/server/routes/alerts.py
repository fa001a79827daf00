"""Alerts: limit thresholds crossed and cleared, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from usagekit.server.auth import Can, Principal, ctx, require
from usagekit.server.responses import JSON
from usagekit.server.routes.common import decode_cursor, encode_cursor, in_thread, text_param
from usagekit.server.webhook_models import AlertPage
from usagekit.services import alerts

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])


@router.get("", response_model=AlertPage)
async def list_alerts(
    request: Request,
    who: Annotated[Principal, Depends(require(Can.READ))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
    subject: str | None = None,
    type: str | None = None,
    limit_slug: Annotated[str | None, Query(alias="limit_slug")] = None,
) -> Response:
    """Alerts newest first; a subject-bound key sees its own subject's only."""
    after = decode_cursor(cursor, 1)[0] if cursor else None
    page = await in_thread(
        alerts.page,
        ctx(request).store,
        who.caller,
        after_id=after,
        limit=limit,
        subject=text_param(subject, "subject"),
        type=text_param(type, "type"),
        limit_slug=text_param(limit_slug, "limit_slug"),
    )
    return JSON(
        {
            "data": [alerts.alert_json(a) for a in page.rows],
            "next_cursor": encode_cursor(page.rows[-1].id) if page.more else None,
        }
    )
