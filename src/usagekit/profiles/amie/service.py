"""AMIE writes: usage messages in, processing failures kept, cleared and retried.

Its writes run on the writer (registered with @write). A record is judged on its
own: malformed -> validation failure (in the reply, kept in channel
`amie-invalid`); naming a project, resource or user outside the tenant's registry
-> processing failure (kept in channel `amie`, keyed so a re-send is counted once,
listed by usage/failed); otherwise stored as an event, exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from usagekit.core import jsondata
from usagekit.core.events import CONFLICT, Event, InvalidRecord
from usagekit.core.records import Failure, NewFailure, subject_of
from usagekit.profiles.amie.model import (
    CHANNEL,
    CONFLICT_CHANNEL,
    INVALID_CHANNEL,
    REGISTRY_KINDS,
    names_in,
    ref,
    translate,
    unknown_error,
    usage_type,
)
from usagekit.services.allowed_writes import write
from usagekit.services.caller import Caller
from usagekit.services.errors import InvalidInput, NotFound
from usagekit.services.ingest import MAX_FAILURE_ROWS, IngestResult, Rejection, Retried
from usagekit.store import Store, TenantBatch
from usagekit.store.processing import Pending, Written

MESSAGE_SHAPE = 'a usage message is {"UsageType": "Compute|Storage|Adjustment", "Records": [...]}'


def parse_message(body: bytes) -> tuple[str, list[Any]]:
    """(usage type, records) of a request body; InvalidInput (400) when it is not a message."""
    try:
        # orjson would round integers past 64 bits: those bodies are parsed exactly
        doc = jsondata.loads_exact(body) if jsondata.may_lose_numbers(body) else orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"body is not JSON ({exc.msg}); {MESSAGE_SHAPE}") from None
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"body is not JSON ({str(exc)[:80]}); {MESSAGE_SHAPE}") from None
    if not isinstance(doc, dict):
        raise InvalidInput(f"body is not a usage message: {MESSAGE_SHAPE}")
    try:
        kind = usage_type(doc.get("UsageType"))
    except InvalidRecord as exc:
        raise InvalidInput(f"{exc}; {MESSAGE_SHAPE}", "UsageType") from None
    records = doc.get("Records")
    if not isinstance(records, list):
        raise InvalidInput(f"Records must be a list of records; {MESSAGE_SHAPE}", "Records")
    return kind, records


@dataclass(slots=True)
class Processed:
    written: Written
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (index, error)
    failed: list[int] = field(default_factory=list)  # indexes that failed processing


def process(
    store: Store,
    caller: Caller,
    kind: str,
    records: list[Any],
    *,
    keep_invalid: bool = True,
    keep_conflicts: bool = True,
) -> Processed:
    """Judge, check against the registry and store one message's records.

    A subject-bound caller's records of another user (Username) fail validation.
    """
    tenant_id, scope = caller.tenant_id, caller.subject
    good: list[tuple[int, Event]] = []
    invalid: list[tuple[int, str]] = []
    for index, record in enumerate(records):
        try:
            event = translate(kind, record)
            if not caller.owns(event.subject):
                raise InvalidRecord(f"Username: this key may only send records of {scope!r}")
            good.append((index, event))
        except InvalidRecord as exc:
            invalid.append((index, str(exc)))
    wanted: dict[str, set[str]] = {k: set() for k in REGISTRY_KINDS}
    for _, ev in good:
        for k, name in names_in(ev).items():
            wanted[k].add(name)
    kinds, known = store.registry.lookup(tenant_id, wanted) if good else (set(), {})
    ok: list[tuple[int, Event]] = []
    pending: list[Pending] = []
    failed: list[int] = []
    for index, ev in good:
        missing = [(k, n) for k, n in names_in(ev).items() if k in kinds and n not in known[k]]
        if missing:
            record = kept(kind, records[index])
            pending.append(Pending(ref(ev), unknown_error(missing), record, ev.subject))
            failed.append(index)
        else:
            ok.append((index, ev))
    rejects = [
        NewFailure(e, kept(kind, records[i]), INVALID_CHANNEL, scope or owner(records[i]))
        for i, e in invalid
    ]
    batch = TenantBatch.of(
        tenant_id,
        ok,
        rejects if keep_invalid else [],
        CONFLICT_CHANNEL,
        keep_conflicts,
        failure_cap=MAX_FAILURE_ROWS,
    )
    refs = {i: ref(ev) for i, ev in ok}
    written = store.processing.write(batch, refs, CHANNEL, pending, scope)
    return Processed(written, invalid, failed)


def owner(record: Any) -> str | None:
    """The user (subject) an AMIE record names, if any."""
    return subject_of(record, "Username")


def kept(kind: str, record: Any) -> Any:
    """A record as kept in a failure: verbatim, with its usage type (or its JSON text)."""
    return jsondata.keepable({**record, "UsageType": kind} if isinstance(record, dict) else record)


def echo(kind: str, record: Any, error: str) -> dict[str, Any]:
    """A ValidationFailedRecords entry: the record as sent, its error and usage type.

    amieclient parses these into records; a Compute record without an
    Attributes object would crash it, so one is supplied (empty).
    """
    record = jsondata.keepable(record)
    out = dict(record) if isinstance(record, dict) else {"Record": record}
    if kind == "Compute" and not isinstance(out.get("Attributes"), dict):
        out["Attributes"] = {}
    out["UsageType"] = kind
    out["Error"] = error
    return out


@write
def send(store: Store, caller: Caller, body: bytes) -> dict[str, Any]:
    """POST usage/: the AMIE reply for one usage message."""
    kind, records = parse_message(body)
    done = process(store, caller, kind, records)
    outcome = done.written.outcome
    failed_validation = [echo(kind, records[i], e) for i, e in done.invalid]
    failed_validation += [echo(kind, records[i], CONFLICT) for i, _ in outcome.conflicts]
    failed = len(done.failed)
    message = (
        f"{len(records)} {kind} records received: {outcome.accepted} loaded, "
        f"{outcome.duplicates} already loaded, {failed} failed processing"
        f"{' (see usage/failed)' if failed else ''}, {len(failed_validation)} failed validation"
    )
    return {
        "Message": message,
        "ValidationFailedRecords": failed_validation,
        "LoadedRecordCount": outcome.accepted,
        "DuplicateRecordCount": outcome.duplicates,
        "FailedRecordCount": failed,
    }


@write
def clear(store: Store, caller: Caller, ids: list[int]) -> dict[str, Any]:
    """DELETE usage/failed/{ids}: drop processing failures you have dealt with (yours only)."""
    cleared = store.processing.clear(caller.tenant_id, CHANNEL, ids, caller.subject)
    missing = sorted(set(ids) - set(cleared))
    if not cleared and missing:
        raise NotFound(f"no failed records with FailedRecordID {', '.join(map(str, missing))}")
    return {"Message": f"cleared {len(cleared)} failed records", "Cleared": cleared,
            "NotFound": missing}  # fmt: skip


@write
def retry(store: Store, caller: Caller, ids: list[int] | None = None) -> dict[str, Any]:
    """Process failed records again against today's registry (all, or those of `ids`).

    Records whose names are now registered are stored (a re-sent copy already
    stored counts as done) and leave the failure list; the rest stay, with their
    error brought up to date.
    """
    pending = store.processing.listed(caller.tenant_id, CHANNEL, ids, caller.subject)
    loaded = 0
    for failure in pending:
        loaded += _retry_one(store, caller, failure)
    return {"retried": len(pending), "loaded": loaded, "still_failed": len(pending) - loaded}


def _retry_one(store: Store, caller: Caller, failure: Failure) -> int:
    record = failure.record
    if not isinstance(record, dict):
        return 0
    try:
        kind = usage_type(record.get("UsageType"))
    except InvalidRecord:
        return 0
    done = process(store, caller, kind, [record], keep_invalid=False, keep_conflicts=False)
    outcome = done.written.outcome
    return 1 if outcome.accepted + outcome.duplicates == 1 else 0


def retry_failure(store: Store, caller: Caller, failure: Failure) -> Retried:
    """POST /v1/failures/{id}/retry for an AMIE failure (its failure_channels), native result."""
    result = IngestResult()
    record = failure.record
    try:
        kind = usage_type(record.get("UsageType") if isinstance(record, dict) else None)
    except InvalidRecord as exc:
        result.rejected = [Rejection(0, None, str(exc))]
        return Retried(False, result)
    done = process(store, caller, kind, [record], keep_invalid=False, keep_conflicts=False)
    outcome = done.written.outcome
    result.accepted, result.duplicates = outcome.accepted, outcome.duplicates
    rid = record.get("LocalRecordID") if isinstance(record, dict) else None
    rid = rid if isinstance(rid, str | int) else None
    result.rejected = [Rejection(0, rid, e) for _, e in done.invalid]
    if done.failed:
        current = store.processing.listed(caller.tenant_id, CHANNEL, [failure.id])
        error = current[0].error if current else "failed processing"
        result.rejected = [Rejection(0, rid, error)]
    if outcome.conflicts:
        result.conflicting = [Rejection(0, rid, CONFLICT)]
    cleared = outcome.accepted + outcome.duplicates == 1
    if failure.channel == INVALID_CHANNEL and (cleared or done.failed):
        # Now valid: stored, or kept as pending.
        store.failures.delete(caller.tenant_id, [failure.id])
        cleared = True
    return Retried(cleared, result)


@write
def registry_add(store: Store, tenant_id: int, kind: str, names: list[str]) -> list[str]:
    return store.registry.add(tenant_id, check_kind(kind), names)


@write
def registry_remove(store: Store, tenant_id: int, kind: str, names: list[str]) -> int:
    return store.registry.remove(tenant_id, check_kind(kind), names)


def registry_entries(store: Store, caller: Caller) -> dict[str, list[str]]:
    """The tenant's registered names, kind -> sorted names (kinds without entries absent)."""
    return store.registry.entries(caller.tenant_id)


def check_kind(kind: str) -> str:
    if kind not in REGISTRY_KINDS:
        raise InvalidInput(f"kind {kind!r} is not one of {', '.join(REGISTRY_KINDS)}", "kind")
    return kind
