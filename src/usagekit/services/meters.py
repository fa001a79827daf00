"""Meter definitions: read as a caller may, and created or deleted through the writer."""

from __future__ import annotations

from usagekit.core import params
from usagekit.core.meters import Meter
from usagekit.core.presets import profile_of
from usagekit.services.allowed_writes import write
from usagekit.services.caller import Caller
from usagekit.services.errors import Conflict, NotFound
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


def listed(store: Store, caller: Caller, include_presets: bool = False) -> list[Meter]:
    """The caller's tenant's own meters, and the profile presets it uses (all: include_presets).

    Every tenant has every profile's presets (the vendor APIs answer from them), but
    a tenant uses few profiles: a preset is listed once it holds a value, unless one
    of the tenant's own meters counts the same thing (event type, aggregation, value
    property), which would repeat its totals.
    """
    found = store.meters.for_tenant(caller.tenant_id)
    if include_presets:
        return found
    own = [m for m in found if profile_of(m.slug) is None]
    counted = {_measures(m) for m in own}
    candidates = [m for m in found if profile_of(m.slug) and _measures(m) not in counted]
    used = store.meters.in_use([m.id for m in candidates])
    return [m for m in found if profile_of(m.slug) is None or m.id in used]


def _measures(meter: Meter) -> tuple[str, str, str | None]:
    return meter.event_type, meter.aggregation.value, meter.value_property


# -- writes: run in order by the writer (services.allowed_writes) --


@write
def create_meter(store: Store, tenant_id: int, meter: Meter) -> Meter:
    check_user_slug(meter.slug)
    return store.create_meter(tenant_id, meter)


@write
def delete_meter(store: Store, meter: Meter) -> None:
    check_deletable(meter.slug)
    used = [limit.slug for limit in store.limits.of_meter(meter.id)]
    if used:
        names = ", ".join(used)
        raise Conflict(f"meter {meter.slug!r} has limits ({names}); delete them first", "slug")
    store.delete_meter(meter)
