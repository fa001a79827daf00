"""Alerts within the caller's scope (the limits evaluation writes them: store.alerts.record)."""

from __future__ import annotations

from typing import TypedDict

from usagekit.core.events import format_time
from usagekit.core.numbers import Number
from usagekit.services.caller import Caller
from usagekit.services.errors import InvalidInput
from usagekit.services.paging import Page
from usagekit.store import Store
from usagekit.store.alerts import TYPES, AlertRow


def page(
    store: Store,
    caller: Caller,
    *,
    after_id: int | None,
    limit: int,
    subject: str | None = None,
    type: str | None = None,
    limit_slug: str | None = None,
) -> Page[AlertRow]:
    """Alerts newest first; a confined caller sees only its subject's (Forbidden if it
    names another)."""
    if type is not None and type not in TYPES:
        raise InvalidInput(f"type: must be one of {', '.join(TYPES)}", "type")
    narrowed = caller.narrow([subject] if subject is not None else None)
    rows = store.alerts.page(
        caller.tenant_id,
        after_id=after_id,
        limit=limit + 1,
        subject=narrowed[0] if narrowed else None,
        type=type,
        limit_slug=limit_slug,
    )
    return Page.cut(rows, limit)


class AlertJSON(TypedDict):
    """An alert on the wire: in GET /v1/alerts and as the `data` of a webhook."""

    id: int
    type: str
    limit: str
    subject: str | None
    threshold: Number
    usage: Number
    limit_value: Number
    period_start: str
    period_end: str
    created: str


def alert_json(a: AlertRow) -> AlertJSON:
    return {
        "id": a.id,
        "type": a.type,
        "limit": a.limit_slug,
        "subject": a.subject,
        "threshold": a.threshold,
        "usage": a.usage,
        "limit_value": a.limit_value,
        "period_start": format_time(a.period_start),
        "period_end": format_time(a.period_end),
        "created": format_time(a.created_ms),
    }
