"""The one writer: every write, in arrival order, with ingest bodies group-committed.

`ProcessWriter` (the server's default) runs it in a child process, so writing
never competes for the GIL with request handling, body parsing or queries:
sqlite3 gives up the GIL around every statement step, and a busy thread next to
it makes a writer thread crawl. Bodies arrive parsed and judged, with their
rollups computed (ingest.prepare), as plain tuples, so the child spends its time
in SQLite. `ThreadWriter` runs it
on one thread, for tests and embedding. Both execute the same `execute` function.
Other writes are functions registered in services.allowed_writes, run by `Writer.run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import multiprocessing
import signal
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from usagekit.core.clock import SYSTEM_CLOCK, Clock
from usagekit.services import logs, metrics
from usagekit.services.allowed_writes import check_write
from usagekit.services.errors import REQUEST_ERRORS
from usagekit.services.faults import Overloaded, WriterUnavailable, as_fault
from usagekit.services.ingest import IngestJob, commit_group
from usagekit.services.limits import keep_limits
from usagekit.store import BatchOutcome, Store

P = ParamSpec("P")
R = TypeVar("R")
log = logging.getLogger("usagekit.writer")
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@dataclass(frozen=True, slots=True)
class Call:
    """A registered write with its arguments (the function pickles by reference)."""

    fn: Callable[..., object]
    args: tuple[object, ...]
    kwargs: dict[str, object]


@dataclass(frozen=True, slots=True)
class GroupDone:
    """What the writer child reports after each group, for the server's metrics."""

    size: int
    seconds: float

    def record(self) -> None:
        metrics.WRITER_GROUP.observe(self.size)
        metrics.WRITER_SECONDS.observe(self.seconds)


Message = IngestJob | Call
Outcome = tuple[bool, Any]  # (ok, value or exception)
MAX_GROUP = 64
__all__ = ["Call", "ProcessWriter", "ThreadWriter", "Writer", "WriterUnavailable", "execute"]


def execute(store: Store, messages: list[Message]) -> list[Outcome]:
    """Run messages in order; consecutive ingest jobs share one transaction."""
    out: list[Outcome] = []
    i = 0
    while i < len(messages):
        message = messages[i]
        if isinstance(message, IngestJob):
            j = i + 1
            while j < len(messages) and isinstance(messages[j], IngestJob):
                j += 1
            try:
                replies = commit_group(store, cast(list[IngestJob], messages[i:j]))
                out += [
                    (False, _failure(r, "ingest failed")) if isinstance(r, Exception) else (True, r)
                    for r in replies
                ]
            except Exception as exc:
                out += [(False, _failure(exc, "ingest failed"))] * (j - i)
            i = j
            continue
        try:
            check_write(message.fn)
            out.append((True, message.fn(store, *message.args, **message.kwargs)))
        except Exception as exc:
            name = getattr(message.fn, "__qualname__", message.fn)
            out.append((False, _failure(exc, f"write {name} failed")))
        i += 1
    return out


def _failure(exc: Exception, what: str | None = None) -> Exception:
    """What a failed write answers: its service error, its fault (logged once), or itself.

    An exception that is neither is a bug: its traceback is logged (when `what` names it).
    """
    if isinstance(exc, REQUEST_ERRORS):
        return exc
    fault = as_fault(exc)
    if fault is not None:
        return fault
    if what is not None:
        log.error(what, exc_info=exc)
    return exc


class Writer(ABC):
    """Serialises writes; at most `max_queue` wait at once, past that Overloaded (503)."""

    max_queue: int = 1024

    def _check_room(self, waiting: int) -> None:
        if waiting >= self.max_queue:
            raise Overloaded(
                f"the writer has {self.max_queue} writes waiting, its limit; retry shortly"
            )

    async def ingest(self, job: IngestJob) -> BatchOutcome:
        """Store one prepared request body; its outcome once committed."""
        outcome: BatchOutcome = await self._queued(job)
        return outcome

    async def run(
        self, fn: Callable[Concatenate[Store, P], R], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Run `fn(store, *args, **kwargs)` after everything queued before it; its result.

        `fn` must be registered with `allowed_writes.write` (the writer refuses others).
        """
        check_write(fn)
        return cast(R, await self._queued(Call(fn, args, kwargs)))

    async def _queued(self, message: Message) -> Any:
        metrics.WRITER_QUEUE.inc()
        try:
            return await self._submit(message)
        finally:
            metrics.WRITER_QUEUE.dec()

    @property
    def pid(self) -> int | None:
        """The writer's own process id, when it runs in a process of its own."""
        return None

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    async def _submit(self, message: Message) -> Any: ...


class ThreadWriter(Writer):
    """The writer on one thread of this process."""

    def __init__(self, store: Store, max_queue: int = Writer.max_queue) -> None:
        self.store = store
        keep_limits(store)
        self.max_queue = max_queue
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="usagekit-writer")
        self._queue: asyncio.Queue[tuple[Message, asyncio.Future[Any]]] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._loop(), name="usagekit-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._executor.shutdown(wait=True)

    async def _submit(self, message: Message) -> Any:
        assert self._queue is not None, "writer not started"
        self._check_room(self._queue.qsize())
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._queue.put((message, future))
        return await future

    async def _loop(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            group = [await self._queue.get()]
            while not self._queue.empty() and len(group) < MAX_GROUP:
                group.append(self._queue.get_nowait())
            started = time.perf_counter()
            outcomes = await loop.run_in_executor(
                self._executor, execute, self.store, [m for m, _ in group]
            )
            GroupDone(len(group), time.perf_counter() - started).record()
            for (_, future), (ok, value) in zip(group, outcomes, strict=True):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)


def _child(
    conn: Connection, db: str, synchronous: str, clock: Clock, log_format: str, log_level: int
) -> None:
    """The writer process: receive, group, execute, reply; exit when the parent goes.

    It ignores SIGINT and SIGTERM, which a terminal or a supervisor sends to the whole
    process group: the server drains its requests first, then stops it by closing the pipe.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # blocked since its start
    logs.configure(log_format, log_level)
    store = Store.open(db, create=False, synchronous=synchronous, clock=clock)
    keep_limits(store)
    gc.freeze()  # what is loaded now lives as long as the process: keep it out of collections
    # Each event allocates and frees a few acyclic objects (rows, params) here: at the
    # default threshold (700) gen-0 collections took about 4% of the writer's time.
    gc.set_threshold(50_000, 20, 20)
    try:
        while True:
            try:
                first = conn.recv()
            except (EOFError, OSError):
                return
            if first is None:
                return
            group = [first]
            stopping = False
            while len(group) < MAX_GROUP and conn.poll():
                item = conn.recv()
                if item is None:
                    stopping = True
                    break
                group.append(item)
            started = time.perf_counter()
            outcomes = execute(store, [m for _, m in group])
            done = GroupDone(len(group), time.perf_counter() - started)
            try:
                conn.send(done)
                for (rid, _), (ok, value) in zip(group, outcomes, strict=True):
                    if not ok and not isinstance(value, REQUEST_ERRORS):
                        value = RuntimeError(f"{type(value).__name__}: {value}")
                    conn.send((rid, ok, value))
            except OSError:  # the server went away; what was committed stays committed
                return
            if stopping:
                return
    finally:
        store.close()


class ProcessWriter(Writer):
    """The writer in a child process, reached over a pipe."""

    def __init__(
        self,
        db: str,
        synchronous: str,
        max_queue: int = Writer.max_queue,
        clock: Clock = SYSTEM_CLOCK,
        log_format: str = "logfmt",
    ) -> None:
        self.db = db
        self.log_format = log_format
        self.synchronous = synchronous
        self.clock = clock  # the child's store stamps by a copy of it
        self.max_queue = max_queue
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[int, asyncio.Future[Any]]] = {}  # rid -> (child, future)
        self._generation = 0
        self._sender = ThreadPoolExecutor(1, thread_name_prefix="usagekit-writer-send")
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._restart = asyncio.Lock()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._spawn()

    def _spawn(self) -> None:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe(duplex=True)
        self._process = context.Process(
            target=_child,
            args=(
                child,
                self.db,
                self.synchronous,
                self.clock,
                self.log_format,
                logging.getLogger("usagekit").getEffectiveLevel(),
            ),
            name="usagekit-writer",
            daemon=True,
        )
        # Blocked from before the child exists, so one sent to the group while it starts
        # (importing, before _child ignores it) cannot end it with a KeyboardInterrupt.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            self._process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        child.close()
        self._conn = parent
        self._generation += 1
        threading.Thread(
            target=self._read,
            args=(parent, self._generation),
            name="usagekit-writer-read",
            daemon=True,
        ).start()

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.is_alive() else None

    async def stop(self) -> None:
        self._stopping = True
        conn, process = self._conn, self._process
        self._conn = None
        if conn is not None:
            with contextlib.suppress(OSError, ValueError):  # a writer that died has no pipe
                await asyncio.get_running_loop().run_in_executor(self._sender, conn.send, None)
        if process is not None:
            await asyncio.get_running_loop().run_in_executor(None, process.join, 30)
            if process.is_alive():
                process.kill()
        if conn is not None:
            conn.close()
        self._sender.shutdown(wait=True)

    async def _submit(self, message: Message) -> Any:
        if self._process is not None and not self._process.is_alive() and not self._stopping:
            async with self._restart:
                if not self._process.is_alive():
                    log.error(
                        "writer process exited (code %s); starting a new one",
                        self._process.exitcode,
                    )
                    if self._conn is not None:
                        self._conn.close()
                    self._spawn()
        conn = self._conn
        if conn is None or self._process is None or not self._process.is_alive():
            raise WriterUnavailable("the writer process is not running (being restarted)")
        self._check_room(len(self._pending))
        rid = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[rid] = (self._generation, future)
        try:
            await asyncio.get_running_loop().run_in_executor(
                self._sender, conn.send, (rid, message)
            )
        except (OSError, ValueError):
            self._pending.pop(rid, None)
            raise WriterUnavailable("the writer process is not running (being restarted)") from None
        return await future

    def _read(self, conn: Connection, generation: int) -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break
            if isinstance(message, GroupDone):
                message.record()
                continue
            rid, ok, value = message
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._resolve, rid, ok, value)
        assert self._loop is not None
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._fail_all, generation)

    def _resolve(self, rid: int, ok: bool, value: Any) -> None:
        entry = self._pending.pop(rid, None)
        if entry is None or entry[1].done():
            return
        future = entry[1]
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def _fail_all(self, generation: int) -> None:
        """The child of that generation is gone: its unanswered requests fail (503)."""
        for rid, (gen, future) in list(self._pending.items()):
            if gen == generation:
                del self._pending[rid]
                if not future.done():
                    future.set_exception(
                        WriterUnavailable("the writer process stopped before answering")
                    )
