"""Failures within the caller's scope: listed, and cleared or retried through the writer."""

from __future__ import annotations

from usagekit.core.events import InvalidRecord, parse_record
from usagekit.core.records import Failure
from usagekit.profiles import Profile, owner_of_channel
from usagekit.services.allowed_writes import write
from usagekit.services.caller import Caller
from usagekit.services.errors import NotFound
from usagekit.services.ingest import IngestResult, Rejection, Retried
from usagekit.services.paging import Page
from usagekit.store import Store, TenantBatch


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


# -- writes: run in order by the writer (services.allowed_writes) --


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
