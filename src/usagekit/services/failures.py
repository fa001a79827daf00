"""Failure reads within the caller's scope (clearing and retrying are writes: services.writes)."""

from __future__ import annotations

from usagekit.core.records import Failure
from usagekit.services.caller import Caller
from usagekit.services.paging import Page
from usagekit.store import Store


def page(
    store: Store, caller: Caller, *, after_id: int | None, limit: int, channel: str | None
) -> Page[Failure]:
    """Failures newest first; a confined caller sees only its subject's."""
    rows = store.failures.page(
        caller.tenant_id,
        after_id=after_id,
        limit=limit + 1,
        channel=channel,
        subject=caller.subject,
    )
    return Page.cut(rows, limit)
