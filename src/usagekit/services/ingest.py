"""Ingest: parse a body, judge each record on its own, and write through one writer.

The writer is a single task that drains every queued request into one store
transaction (group commit): SQLite has one writer, so throughput comes from
batching, and every reply is sent only after its records are committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson

from usagekit.core.events import CONFLICT, Event, InvalidRecord, parse_record
from usagekit.core.records import NewFailure
from usagekit.store import BatchOutcome, Store, TenantBatch

log = logging.getLogger("usagekit.ingest")
T = TypeVar("T")
MAX_GROUP_EVENTS = 20_000


class BodyError(ValueError):
    """A body that is not JSON (or not a list of records); nothing from it is stored."""


def parse_body(body: bytes, content_type: str) -> tuple[list[Any], list[tuple[int, str, str]]]:
    """Records from a JSON array, {"events": [...]}, one object, or NDJSON.

    Returns (records, broken) where broken lists NDJSON lines that are not JSON as
    (index, raw line, error); in a JSON body any syntax error rejects the whole body.
    """
    if "ndjson" in content_type or "jsonl" in content_type or "json-seq" in content_type:
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "conflicts": len(self.conflicts),
            "rejected": self.rejected,
            "conflicting": self.conflicts,
        }


def judge(
    records: list[Any], broken: list[tuple[int, str, str]] | None = None, channel: str = "events"
) -> tuple[list[tuple[int, Event]], list[dict[str, Any]], list[NewFailure]]:
    """Validate each record on its own: (good with indexes, rejections, failures to keep)."""
    bad_lines = {i: (raw, err) for i, raw, err in broken or ()}
    good: list[tuple[int, Event]] = []
    rejected: list[dict[str, Any]] = []
    failures: list[NewFailure] = []
    for index, record in enumerate(records):
        if record is _BROKEN:
            raw, error = bad_lines[index]
            rejected.append({"index": index, "id": None, "error": error})
            failures.append(NewFailure(error, raw, channel))
            continue
        try:
            good.append((index, parse_record(record)))
        except InvalidRecord as exc:
            rid = record.get("id") if isinstance(record, dict) else None
            rejected.append(
                {
                    "index": index,
                    "id": rid if isinstance(rid, str | int) else None,
                    "error": str(exc),
                }
            )
            failures.append(NewFailure(str(exc), record, channel))
    return good, rejected, failures


@dataclass(slots=True)
class _Pending:
    batch: TenantBatch
    future: asyncio.Future[BatchOutcome]


class Writer:
    """The one writer: group-commits ingest batches and serialises every other write."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="usagekit-writer")
        self._queue: asyncio.Queue[_Pending] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._loop(), name="usagekit-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.executor.shutdown(wait=True)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a write on the writer thread, after whatever is already queued there."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def submit(self, batch: TenantBatch) -> BatchOutcome:
        """Queue a batch; resolves once it is committed."""
        assert self._queue is not None, "writer not started"
        future: asyncio.Future[BatchOutcome] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(batch, future))
        return await future

    async def _loop(self) -> None:
        assert self._queue is not None
        while True:
            group = [await self._queue.get()]
            size = len(group[0].batch.events)
            while not self._queue.empty() and size < MAX_GROUP_EVENTS:
                item = self._queue.get_nowait()
                group.append(item)
                size += len(item.batch.events)
            await self._commit(group)

    async def _commit(self, group: list[_Pending]) -> None:
        try:
            outcomes = await self.run(self.store.events.write, [p.batch for p in group])
        except Exception as exc:
            if len(group) == 1:
                log.exception("write failed")
                if not group[0].future.done():
                    group[0].future.set_exception(exc)
                return
            # One request must not sink the others: retry them one by one.
            for pending in group:
                await self._commit([pending])
            return
        for pending, outcome in zip(group, outcomes, strict=True):
            if not pending.future.done():
                pending.future.set_result(outcome)


class Ingest:
    """Judge records, write the good ones and keep the bad ones as failures."""

    def __init__(self, store: Store, writer: Writer) -> None:
        self.store = store
        self.writer = writer

    async def ingest(
        self,
        tenant_id: int,
        records: list[Any],
        broken: list[tuple[int, str, str]] | None = None,
        channel: str = "events",
    ) -> IngestResult:
        good, rejected, failures = judge(records, broken, channel)
        outcome = await self.writer.submit(TenantBatch(tenant_id, good, failures, channel))
        conflicts = [{"index": i, "id": eid, "error": CONFLICT} for i, eid in outcome.conflicts]
        return IngestResult(outcome.accepted, outcome.duplicates, conflicts, rejected)
