"""The writes other than ingest, registered so the writer (thread or process) runs them in order.

Each takes the store first; arguments and results are plain picklable values.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from usagekit.core.events import InvalidRecord, parse_record
from usagekit.core.meters import Meter
from usagekit.core.records import ApiKey, Role, Tenant
from usagekit.services.admin import Admin
from usagekit.services.allowed_writes import write
from usagekit.services.caller import Caller
from usagekit.services.errors import Conflict, NotFound
from usagekit.services.presets import check_deletable, check_user_slug, ensure_presets
from usagekit.services.profiles import amie
from usagekit.store import Store, TenantBatch


@write
def create_meter(store: Store, tenant_id: int, meter: Meter) -> Meter:
    check_user_slug(meter.slug)
    try:
        return store.create_meter(tenant_id, meter)
    except IntegrityError:
        raise Conflict(f"meter {meter.slug!r} already exists", "slug") from None


@write
def delete_meter(store: Store, meter: Meter) -> None:
    check_deletable(meter.slug)
    store.delete_meter(meter)


@write
def void(store: Store, caller: Caller, source: str, ids: list[str]) -> tuple[list[str], list[str]]:
    caller.whole_tenant("voiding events")
    return store.events.void(caller.tenant_id, source, ids)


@write
def create_tenant(store: Store, name: str) -> Tenant:
    tenant = Admin(store).create_tenant(name)
    ensure_presets(store, [tenant.id])
    return tenant


@write
def create_key(
    store: Store, tenant: Tenant, role: Role, subject: str | None, name: str | None
) -> tuple[ApiKey, str]:
    return Admin(store).create_key(tenant, role, subject=subject, name=name)


@write
def revoke_key(store: Store, tenant_id: int, key_id: str) -> bool:
    return Admin(store).revoke_key(tenant_id, key_id)


@write
def clear_failure(store: Store, caller: Caller, failure_id: int) -> None:
    """Drop one failure of the caller's (another subject's is not found)."""
    if not store.failures.delete(caller.tenant_id, [failure_id], caller.subject):
        raise NotFound(f"no failure {failure_id}", "failure_id")


@write
def retry_failure(store: Store, caller: Caller, failure_id: int) -> dict[str, Any]:
    """Submit a kept record of the caller's again; stored (or already there) clears it.

    A confined caller's record naming another subject stays a failure, as at ingest.
    """
    tenant_id = caller.tenant_id
    failure = store.failures.get(tenant_id, failure_id, caller.subject)
    if failure is None:
        raise NotFound(f"no failure {failure_id}", "failure_id")
    if amie.handles(failure.channel):
        return amie.retry_failure(store, caller, failure)
    result: dict[str, Any] = {
        "accepted": 0,
        "duplicates": 0,
        "conflicts": 0,
        "rejected": [],
        "conflicting": [],
    }
    try:
        event = parse_record(failure.record)
        if not caller.owns(event.subject):
            raise InvalidRecord(f"subject: this key may only send events of {caller.subject!r}")
    except InvalidRecord as exc:
        result["rejected"] = [{"index": 0, "id": None, "error": str(exc)}]
        return {"cleared": False, "result": result}
    [outcome] = store.events.write(
        [TenantBatch.of(tenant_id, [(0, event)], [], failure.channel, keep_conflicts=False)]
    )
    result.update(
        accepted=outcome.accepted, duplicates=outcome.duplicates, conflicts=len(outcome.conflicts)
    )
    if outcome.conflicts:
        result["conflicting"] = [
            {"index": 0, "id": event.id, "error": "id still stored with different content"}
        ]
        return {"cleared": False, "result": result}
    store.failures.delete(tenant_id, [failure_id], caller.subject)
    return {"cleared": True, "result": result}
