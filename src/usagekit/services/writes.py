"""The writes other than ingest, registered so the writer (thread or process) runs them in order.

Each takes the store first; arguments and results are plain picklable values.
"""

from __future__ import annotations

from usagekit.core.events import InvalidRecord, parse_record
from usagekit.core.meters import Meter
from usagekit.core.records import ApiKey, Failure, Role, Tenant
from usagekit.profiles import Profile, owner_of_channel
from usagekit.services.admin import Admin
from usagekit.services.allowed_writes import write
from usagekit.services.caller import Caller
from usagekit.services.errors import NotFound
from usagekit.services.ingest import IngestResult, Rejection, Retried
from usagekit.services.presets import check_deletable, check_user_slug, ensure_presets
from usagekit.store import Store, TenantBatch


@write
def create_meter(store: Store, tenant_id: int, meter: Meter) -> Meter:
    check_user_slug(meter.slug)
    return store.create_meter(tenant_id, meter)


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
def retry_failure(store: Store, caller: Caller, failure_id: int) -> Retried:
    """Submit a kept record of the caller's again; stored (or already there) clears it.

    A confined caller's record naming another subject stays a failure, as at ingest.
    """
    tenant_id = caller.tenant_id
    failure = store.failures.get(tenant_id, failure_id, caller.subject)
    if failure is None:
        raise NotFound(f"no failure {failure_id}", "failure_id")
    owner = owner_of_channel(failure.channel)
    if owner is not None:
        return _profile_retry(store, caller, owner, failure)
    try:
        event = parse_record(failure.record)
        if not caller.owns(event.subject):
            raise InvalidRecord(f"subject: this key may only send events of {caller.subject!r}")
    except InvalidRecord as exc:
        return Retried(False, IngestResult(rejected=[Rejection(0, None, str(exc))]))
    [outcome] = store.events.write(
        [TenantBatch.of(tenant_id, [(0, event)], [], failure.channel, keep_conflicts=False)]
    )
    result = IngestResult(outcome.accepted, outcome.duplicates)
    if outcome.conflicts:
        error = "id still stored with different content"
        result.conflicting = [Rejection(0, event.id, error)]
        return Retried(False, result)
    store.failures.delete(tenant_id, [failure_id], caller.subject)
    return Retried(True, result)


def _profile_retry(store: Store, caller: Caller, owner: Profile, failure: Failure) -> Retried:
    """Retry a failure through the profile owning its channel (its writes' retry_failure)."""
    retry = owner.part(owner.writes, "retry_failure")
    if not callable(retry):
        raise TypeError(f"profile {owner.name!r} owns failure channels but has no retry_failure")
    reply = retry(store, caller, failure)
    if not isinstance(reply, Retried):
        raise TypeError(f"{owner.name}'s retry_failure must return a Retried")
    return reply
