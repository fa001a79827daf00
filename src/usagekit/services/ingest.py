"""Ingest: parse a body, judge each record on its own, and group-commit many bodies.

`prepare` runs in the server process; `commit_group` runs on the writer
(services.writer): every queued request goes into one store transaction, and
replies are sent only after it commits.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from usagekit.core.events import CONFLICT, Event, InvalidRecord, parse_record
from usagekit.core.meters import Meter
from usagekit.core.records import NewFailure, subject_of
from usagekit.core.wire import decode_events
from usagekit.services.caller import Caller
from usagekit.services.faults import as_fault
from usagekit.store import BatchOutcome, Store, TenantBatch

log = logging.getLogger("usagekit.ingest")
# Failure rows kept per request (rejected, then conflicting records); the rest are
# reported in the reply only, so one request cannot flood the failures table.
MAX_FAILURE_ROWS = 1000


class BodyError(ValueError):
    """A body that is not JSON (or not a list of records); nothing from it is stored."""


def parse_body(body: bytes, content_type: str) -> tuple[list[Any], list[tuple[int, str, str]]]:
    """Records from a JSON array, {"events": [...]}, one object, or NDJSON.

    Returns (records, broken) where broken lists NDJSON lines that are not JSON as
    (index, raw line, error); in a JSON body any syntax error rejects the whole body.
    """
    if _is_ndjson(content_type):
        return _parse_ndjson(body)
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BodyError(
            f"body is not valid JSON: {exc.msg} at line {exc.lineno} "
            f"column {exc.colno} (char {exc.pos})"
        ) from None
    if isinstance(doc, dict) and "events" in doc:
        doc = doc["events"]
        if not isinstance(doc, list):
            raise BodyError("'events' must be an array of event objects")
    elif isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list):
        raise BodyError('body must be a JSON array of events, {"events": [...]}, or NDJSON')
    return doc, []


def _is_ndjson(content_type: str) -> bool:
    return "ndjson" in content_type or "jsonl" in content_type or "json-seq" in content_type


def _parse_ndjson(body: bytes) -> tuple[list[Any], list[tuple[int, str, str]]]:
    records: list[Any] = []
    broken: list[tuple[int, str, str]] = []
    index = 0
    for lineno, line in enumerate(body.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            records.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            text = line.decode("utf-8", "replace")
            broken.append(
                (index, text, f"line {lineno}: not valid JSON: {exc.msg} at column {exc.colno}")
            )
            records.append(_BROKEN)
        index += 1
    return records, broken


_BROKEN = object()


@dataclass(slots=True)
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    failures_not_kept: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "conflicts": len(self.conflicts),
            "rejected": self.rejected,
            "conflicting": self.conflicts,
            "failures_not_kept": self.failures_not_kept,
        }


def judge(
    records: list[Any],
    broken: list[tuple[int, str, str]] | None = None,
    channel: str = "events",
    scope: str | None = None,
) -> tuple[list[tuple[int, Event]], list[dict[str, Any]], list[NewFailure]]:
    """Validate each record on its own: (good with indexes, rejections, failures to keep).

    With `scope` (a subject-bound key), a record of another subject is rejected,
    and every failure is kept as the scope's; otherwise as the subject it names.
    """
    bad_lines = {i: (raw, err) for i, raw, err in broken or ()}
    good: list[tuple[int, Event]] = []
    rejected: list[dict[str, Any]] = []
    failures: list[NewFailure] = []
    for index, record in enumerate(records):
        if record is _BROKEN:
            raw, error = bad_lines[index]
            rejected.append({"index": index, "id": None, "error": error})
            failures.append(NewFailure(error, raw, channel, scope))
            continue
        try:
            event = parse_record(record)
            if scope is not None and event.subject != scope:
                raise InvalidRecord(f"subject: this key may only send events of {scope!r}")
            good.append((index, event))
        except InvalidRecord as exc:
            rid = record.get("id") if isinstance(record, dict) else None
            rejected.append(
                {
                    "index": index,
                    "id": rid if isinstance(rid, str | int) else None,
                    "error": str(exc),
                }
            )
            failures.append(NewFailure(str(exc), record, channel, scope or subject_of(record)))
    return good, rejected, failures


@dataclass(frozen=True, slots=True)
class IngestJob:
    """A request body, parsed and judged, as the writer gets it: plain tuples pickle fast."""

    batch: TenantBatch
    rejected: list[dict[str, Any]]


class MeterLookup:
    """A tenant's meters by event type for `prepare`, re-read at most every `ttl` seconds.

    A stale answer costs speed only, never numbers: the writer checks the meter
    ids a body's rollups were computed for and computes them itself if they differ.
    """

    def __init__(self, store: Store, ttl: float = 1.0) -> None:
        self.store = store
        self.ttl = ttl
        self._cache: dict[tuple[int, frozenset[str]], tuple[float, list[Meter]]] = {}

    def __call__(self, tenant_id: int, types: set[str]) -> list[Meter]:
        key = (tenant_id, frozenset(types))
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        meters = self.store.meters.for_types(tenant_id, types)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (now + self.ttl, meters)
        return meters


def prepare(
    meters: MeterLookup, caller: Caller, body: bytes, content_type: str, channel: str = "events"
) -> IngestJob:
    """Parse and judge a body, and compute its rollups, in the server process.

    The writer process then mostly stores: parsing, validation and aggregation
    run next to it on the other core instead of in its way (the writer computes
    rollups itself only for bodies with duplicates, or when meters changed in
    between). A subject-bound caller's records of other subjects are rejected.
    BodyError if the body is not JSON.
    """
    scope = caller.subject
    fast = None if _is_ndjson(content_type) else decode_events(body)
    if fast is not None and scope is not None and any(ev.subject != scope for ev in fast):
        fast = None  # judged one by one below, so each stranger is rejected with its index
    rejected: list[dict[str, Any]] = []
    failures: list[NewFailure] = []
    if fast is not None:
        good = list(enumerate(fast))
    else:
        records, broken = parse_body(body, content_type)
        good, rejected, failures = judge(records, broken, channel, scope)
    tenant_id = caller.tenant_id
    batch = TenantBatch.of(
        tenant_id,
        good,
        failures,
        channel,
        meters=meters(tenant_id, {ev.type for _, ev in good}),
        failure_cap=MAX_FAILURE_ROWS,
    )
    return IngestJob(batch, rejected)


def commit_group(store: Store, jobs: list[IngestJob]) -> list[dict[str, Any] | Exception]:
    """Store several prepared bodies in one transaction; replies once it commits.

    If the shared transaction fails, each body is retried alone, so one request
    cannot sink the others.
    """
    batches = [job.batch for job in jobs]
    outcomes: list[BatchOutcome | Exception]
    try:
        outcomes = list(store.events.write(batches))
    except Exception:
        if len(batches) == 1:
            raise
        outcomes = []
        for batch in batches:
            try:
                outcomes.extend(store.events.write([batch]))
            except Exception as exc:  # reported to that request alone
                fault = as_fault(exc)  # a fault is logged once, not per batch
                if fault is None:
                    log.exception("write failed")
                outcomes.append(fault or exc)
    replies: list[dict[str, Any] | Exception] = []
    for job, outcome in zip(jobs, outcomes, strict=True):
        if isinstance(outcome, Exception):
            replies.append(outcome)
            continue
        conflicts = [{"index": i, "id": eid, "error": CONFLICT} for i, eid in outcome.conflicts]
        result = IngestResult(outcome.accepted, outcome.duplicates, conflicts, job.rejected)
        result.failures_not_kept = outcome.failures_not_kept
        replies.append(result.as_dict())
    return replies
