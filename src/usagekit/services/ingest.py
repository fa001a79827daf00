"""Ingest: parse a body, judge each record on its own, and group-commit many bodies.

`prepare` runs in the server process; `commit_group` runs on the writer
(services.writer): every queued request goes into one store transaction, and
replies are sent only after it commits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from usagekit.core import jsondata
from usagekit.core.events import CONFLICT, Event, InvalidRecord, parse_record
from usagekit.core.meters import Meter
from usagekit.core.records import NewFailure, subject_of
from usagekit.core.wire import decode_events
from usagekit.services.caller import Caller
from usagekit.services.errors import InvalidInput
from usagekit.store import BatchOutcome, Store, TenantBatch

# Failure rows kept per request (rejected, then conflicting records); the rest are
# reported in the reply only, so one request cannot flood the failures table.
MAX_FAILURE_ROWS = 1000


class BodyError(InvalidInput):
    """A body that is not JSON (or not a list of records); nothing from it is stored."""

    def __init__(self, message: str, param: str | None = "body") -> None:
        super().__init__(message, param)


def parse_body(body: bytes, content_type: str) -> tuple[list[Any], list[tuple[int, str, str]]]:
    """Records from a JSON array, {"events": [...]}, one object, or NDJSON.

    Returns (records, broken) where broken lists NDJSON lines that are not JSON as
    (index, raw line, error); in a JSON body any syntax error rejects the whole body.
    """
    if _is_ndjson(content_type):
        return _parse_ndjson(body)
    if jsondata.may_lose_numbers(body):
        return _parse_exact(body, None)
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return _parse_exact(body, exc)
    return _records_of(doc), []


def _records_of(doc: Any) -> list[Any]:
    if isinstance(doc, dict) and "events" in doc:
        doc = doc["events"]
        if not isinstance(doc, list):
            raise BodyError("'events' must be an array of event objects")
    elif isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list):
        raise BodyError('body must be a JSON array of events, {"events": [...]}, or NDJSON')
    return doc


def _parse_exact(
    body: bytes, error: orjson.JSONDecodeError | None
) -> tuple[list[Any], list[tuple[int, str, str]]]:
    """Record by record: one too deep is rejected unparsed, numbers are parsed exactly.

    Any other syntax error still rejects the whole body, as the orjson path does.
    """
    items = jsondata.split_records(body)
    if items is None:
        if error is None:
            raise BodyError('body must be a JSON array of events, {"events": [...]}, or NDJSON')
        raise _not_json(error)
    records: list[Any] = []
    broken: list[tuple[int, str, str]] = []
    for index, (raw, depth) in enumerate(items):
        if depth > jsondata.MAX_DEPTH + 1:
            text = raw[:1000].decode("utf-8", "replace")
            broken.append((index, text, f"data: nested deeper than {jsondata.MAX_DEPTH} levels"))
            records.append(_BROKEN)
            continue
        try:
            records.append(jsondata.loads_exact(raw))
        except ValueError as exc:
            if error is not None:
                raise _not_json(error) from None
            raise BodyError(f"body is not valid JSON: record {index}: {exc}") from None
    if len(records) == 1 and isinstance(records[0], dict) and body.lstrip()[:1] == b"{":
        return _records_of(records[0]), broken
    return records, broken


def _not_json(exc: orjson.JSONDecodeError) -> BodyError:
    where = f"line {exc.lineno} column {exc.colno} (char {exc.pos})"
    return BodyError(f"body is not valid JSON: {exc.msg} at {where}")


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
            records.append(_line(line))
        except _NotJSON as why:
            text = line[:100_000].decode("utf-8", "replace")
            broken.append((index, text, f"line {lineno}: {why}"))
            records.append(_BROKEN)
        index += 1
    return records, broken


def _line(line: bytes) -> Any:
    """One NDJSON line: orjson, unless it may round a number or refuses the line."""
    if jsondata.may_lose_numbers(line):
        return _exact_line(line)
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        try:
            return _exact_line(line)  # too deep for orjson, or a lone surrogate
        except _NotJSON as why:
            if str(why).startswith("data:"):
                raise
            raise _NotJSON(f"not valid JSON: {exc.msg} at column {exc.colno}") from None


class _NotJSON(ValueError):
    """An NDJSON line that cannot be a record; the message says why."""


def _exact_line(line: bytes) -> Any:
    """An NDJSON line orjson refused or might round, parsed exactly, or _NotJSON."""
    items = jsondata.split_records(b"[" + line + b"]")
    if items is None or len(items) != 1:
        raise _NotJSON("not valid JSON")
    if items[0][1] > jsondata.MAX_DEPTH + 1:
        raise _NotJSON(f"data: nested deeper than {jsondata.MAX_DEPTH} levels")
    try:
        return jsondata.loads_exact(items[0][0])
    except ValueError as exc:
        raise _NotJSON(f"not valid JSON: {exc}") from None


_BROKEN = object()


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record refused (or conflicting), by its index in the body and its id if it has one."""

    index: int
    id: str | int | None
    error: str


@dataclass(slots=True)
class IngestResult:
    """What one body's records came to; `conflicting` repeats ids stored with other content."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    conflicting: list[Rejection] = field(default_factory=list)
    failures_not_kept: int = 0


@dataclass(frozen=True, slots=True)
class Retried:
    """A failure submitted again: its record's result, and whether the failure is gone."""

    cleared: bool
    result: IngestResult


def judge(
    records: list[Any],
    broken: list[tuple[int, str, str]] | None = None,
    channel: str = "events",
    scope: str | None = None,
) -> tuple[list[tuple[int, Event]], list[Rejection], list[NewFailure]]:
    """Validate each record on its own: (good with indexes, rejections, failures to keep).

    With `scope` (a subject-bound key), a record of another subject is rejected,
    and every failure is kept as the scope's; otherwise as the subject it names.
    """
    bad_lines = {i: (raw, err) for i, raw, err in broken or ()}
    good: list[tuple[int, Event]] = []
    rejected: list[Rejection] = []
    failures: list[NewFailure] = []
    for index, record in enumerate(records):
        if record is _BROKEN:
            raw, error = bad_lines[index]
            rejected.append(Rejection(index, None, error))
            failures.append(NewFailure(error, raw, channel, scope))
            continue
        try:
            event = parse_record(record)
            if scope is not None and event.subject != scope:
                raise InvalidRecord(f"subject: this key may only send events of {scope!r}")
            good.append((index, event))
        except InvalidRecord as exc:
            rid = record.get("id") if isinstance(record, dict) else None
            rejected.append(Rejection(index, _shown_id(rid), str(exc)))
            failures.append(
                NewFailure(
                    str(exc), jsondata.keepable(record), channel, scope or subject_of(record)
                )
            )
    return good, rejected, failures


def _shown_id(rid: Any) -> str | int | None:
    """A rejected record's id as the reply can show it (JSON text, a 64-bit integer)."""
    if isinstance(rid, str):
        return rid[:256].encode("utf-8", "replace").decode()
    if isinstance(rid, int) and not isinstance(rid, bool) and -(2**63) <= rid < 2**64:
        return rid
    return None


@dataclass(frozen=True, slots=True)
class IngestJob:
    """A request body's good records and failures to keep, as the writer gets them."""

    batch: TenantBatch


@dataclass(frozen=True, slots=True)
class Prepared:
    """A body parsed and judged: the writer's job, and the rejections, which stay here
    (they need no writing beyond the failures in the job, so they never cross to it)."""

    job: IngestJob
    rejected: list[Rejection]

    def result(self, outcome: BatchOutcome) -> IngestResult:
        """The body's result once the writer has committed its job."""
        conflicting = [Rejection(i, eid, CONFLICT) for i, eid in outcome.conflicts]
        return IngestResult(
            outcome.accepted,
            outcome.duplicates,
            self.rejected,
            conflicting,
            outcome.failures_not_kept,
        )


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
) -> Prepared:
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
    rejected: list[Rejection] = []
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
    return Prepared(IngestJob(batch), rejected)


def commit_group(store: Store, jobs: list[IngestJob]) -> list[BatchOutcome | Exception]:
    """Store several prepared bodies in one transaction; outcomes once it commits.

    If the shared transaction fails, each body is retried alone, so one request
    cannot sink the others.
    """
    batches = [job.batch for job in jobs]
    try:
        return list(store.events.write(batches))
    except Exception:
        if len(batches) == 1:
            raise
    outcomes: list[BatchOutcome | Exception] = []
    for batch in batches:
        try:
            outcomes.extend(store.events.write([batch]))
        except Exception as exc:  # reported to that request alone (the writer sorts it)
            outcomes.append(exc)
    return outcomes
