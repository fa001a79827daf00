"""Meter definitions: read as a caller may, and created or deleted through the writer."""

from __future__ import annotations

from usagekit.core import params
from usagekit.core.meters import Meter
from usagekit.services.allowed_writes import write
from usagekit.services.caller import Caller
from usagekit.services.errors import NotFound
from usagekit.services.presets import check_deletable, check_user_slug
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


# -- writes: run in order by the writer (services.allowed_writes) --


@write
def create_meter(store: Store, tenant_id: int, meter: Meter) -> Meter:
    check_user_slug(meter.slug)
    return store.create_meter(tenant_id, meter)


@write
def delete_meter(store: Store, meter: Meter) -> None:
    check_deletable(meter.slug)
    store.delete_meter(meter)
