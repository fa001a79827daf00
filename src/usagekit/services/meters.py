"""Meter definitions as a caller reads them (creating and deleting are writes: services.writes)."""

from __future__ import annotations

from usagekit.core import params
from usagekit.core.meters import Meter
from usagekit.services.caller import Caller
from usagekit.services.errors import NotFound
from usagekit.store import Store


def find(store: Store, caller: Caller, slug: str) -> Meter:
    """The caller's tenant's meter `slug`; NotFound naming `slug` otherwise.

    Meters are tenant-wide: a confined caller sees the same definitions as an admin.
    """
    params.text(slug, "slug", 64)
    meter = store.meters.get(caller.tenant_id, slug)
    if meter is None:
        raise NotFound(f"no meter {slug!r}; GET /v1/meters lists them", "slug")
    return meter


def listed(store: Store, caller: Caller) -> list[Meter]:
    """Every meter of the caller's tenant."""
    return store.meters.for_tenant(caller.tenant_id)
