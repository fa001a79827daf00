"""Keep every tenant's preset meters (core.presets) in place and up to date."""

from __future__ import annotations

from usagekit.core.presets import plan, profile_of
from usagekit.services.errors import Conflict, InvalidInput
from usagekit.store import AlreadyExists, Store


def ensure_presets(store: Store, tenant_ids: list[int] | None = None) -> int:
    """Create missing presets (backfilled from raw events), replace changed ones.

    Runs at startup for all tenants and when a tenant is created; returns the
    number of meters created.
    """
    ids = tenant_ids if tenant_ids is not None else [t.id for t in store.accounts.list_tenants()]
    created = 0
    for tenant_id in ids:
        drop, create = plan(store.meters.for_tenant(tenant_id))
        for meter in drop:
            store.delete_meter(meter)
        for meter in create:
            try:
                store.create_meter(tenant_id, meter)
            except AlreadyExists:
                continue  # another server process on this database made it first
            created += 1
    return created


def check_user_slug(slug: str) -> None:
    """Refuse a user meter in a profile's namespace (400 naming the slug)."""
    profile = profile_of(slug)
    if profile is not None:
        namespace = slug.partition(".")[0]
        raise InvalidInput(
            f"slug: the prefix {namespace + '.'!r} is reserved for the {profile} profile's "
            "preset meters; choose another slug",
            "slug",
        )


def check_deletable(slug: str) -> None:
    """Preset meters stay: 409 naming the profile that answers from it."""
    profile = profile_of(slug)
    if profile is not None:
        raise Conflict(
            f"meter {slug!r} is a preset of the {profile} profile and cannot be deleted", "slug"
        )
