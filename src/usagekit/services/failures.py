"""Failure reads within the caller's scope (clearing and retrying are writes: services.writes)."""

from __future__ import annotations

from usagekit.core.records import Failure
from usagekit.services.caller import Caller
from usagekit.store import Store


def page(
    store: Store, caller: Caller, *, after_id: int | None, limit: int, channel: str | None
) -> list[Failure]:
    """Failures newest first; a confined caller sees only its subject's."""
    return store.failures.page(
        caller.tenant_id, after_id=after_id, limit=limit, channel=channel, subject=caller.subject
    )
