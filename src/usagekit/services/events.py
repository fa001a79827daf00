"""Raw event reads within the caller's scope: the listing (CSV export is services.export)."""

from __future__ import annotations

from usagekit.core.records import StoredEvent
from usagekit.services.allowed_writes import write
from usagekit.services.caller import Caller
from usagekit.services.paging import Page
from usagekit.store import Store
from usagekit.store.events import Voids


def page(
    store: Store,
    caller: Caller,
    *,
    lo: int | None,
    hi: int | None,
    type_: str | None,
    subject: str | None,
    after: tuple[int, int] | None,
    limit: int,
) -> Page[StoredEvent]:
    """Events newest first; a confined caller gets its subject's only (403 asking for another)."""
    subjects = caller.narrow([subject] if subject is not None else None)
    rows = store.events.page(
        caller.tenant_id,
        lo=lo,
        hi=hi,
        type_=type_,
        subject=subjects[0] if subjects else None,
        after=after,
        limit=limit + 1,
    )
    return Page.cut(rows, limit)


# -- writes: run in order by the writer (services.allowed_writes) --


@write
def void(store: Store, caller: Caller, source: str, ids: list[str]) -> Voids:
    """Void by id; an id voided before is reported with its time, not as unknown (idempotent)."""
    caller.whole_tenant("voiding events")
    return store.events.void(caller.tenant_id, source, ids)
