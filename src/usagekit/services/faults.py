"""Faults of the parts under usagekit, not of a request: full storage, a database away,
the writer restarting, too much work in flight. Each is classified once here into a
`ServiceError` that says what happened and when to retry; the server answers it with
503 (507 for full storage) and Retry-After, and logs it as one line, not a traceback.
"""

from __future__ import annotations

import errno
import logging
import math
import sqlite3
import threading
import time

import psycopg
from sqlalchemy import exc as sa

from usagekit.services.errors import ServiceError

log = logging.getLogger("usagekit.faults")

# SQLite primary result codes (the low byte of an extended code).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_IOERR, _SQLITE_FULL, _SQLITE_CANTOPEN = 5, 6, 10, 13, 14


class Unavailable(ServiceError):
    """The request could not be served now and may be sent again after `retry_after` s."""

    code = "unavailable"
    default_retry_after = 1

    def __init__(
        self, message: str, param: str | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message, param)
        self.retry_after = retry_after if retry_after is not None else self.default_retry_after

    def __reduce__(self) -> tuple[type[Unavailable], tuple[str, str | None, int]]:  # type: ignore[override]
        # Crosses the writer process boundary with its retry hint intact.
        return (type(self), (self.message, self.param, self.retry_after))


class StorageFull(Unavailable):
    """The database cannot grow: the disk (or its quota) is full. HTTP 507."""

    code = "storage_full"
    default_retry_after = 10


class DatabaseUnavailable(Unavailable):
    """The database refused, dropped or timed out the connection. HTTP 503."""

    code = "database_unavailable"
    default_retry_after = 2


class WriterUnavailable(Unavailable):
    """The writer process is not running (it is being restarted). HTTP 503."""

    code = "unavailable"


class Overloaded(Unavailable):
    """More work is in flight than the server's limits allow. HTTP 503."""

    code = "overloaded"


def classify(exc: BaseException) -> Unavailable | None:
    """The fault behind an exception (walking its causes), or None for anything else."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        err = stack.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, Unavailable):
            return err
        found = _classify_one(err)
        if found is not None:
            return found
        stack += [getattr(err, "orig", None), err.__cause__, err.__context__]
    return None


def _classify_one(err: BaseException) -> Unavailable | None:
    detail = _first_line(err)
    if isinstance(err, sqlite3.Error):
        primary = (getattr(err, "sqlite_errorcode", 0) or 0) & 0xFF
        if primary == _SQLITE_FULL or "disk is full" in detail:
            return StorageFull(f"storage is full: the database cannot grow ({detail})")
        if primary == _SQLITE_IOERR:
            return StorageFull(f"the database could not write to its disk ({detail})")
        if primary in (_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_CANTOPEN):
            return DatabaseUnavailable(f"the database is unavailable ({detail})")
        return None
    if isinstance(err, psycopg.errors.DiskFull):
        return StorageFull(f"storage is full: the database cannot grow ({detail})")
    if isinstance(err, psycopg.OperationalError | psycopg.InterfaceError):
        return DatabaseUnavailable(f"the database is unavailable ({detail})")
    if isinstance(err, sa.TimeoutError):  # no pooled connection came free in time
        return DatabaseUnavailable(f"the database is unavailable ({detail})")
    if isinstance(err, sa.DBAPIError) and err.connection_invalidated:
        return DatabaseUnavailable("the database connection was lost")
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFull(f"storage is full ({detail})")
    return None


def _first_line(err: BaseException) -> str:
    """The error's own first line: never SQL or parameters, which SQLAlchemy appends."""
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:200] if text else 'no detail'}"


class FaultLog:
    """At most one log line per distinct fault per `interval` seconds, counting the rest.

    A full disk fails every request the same way: one line says so, not a traceback each.
    """

    def __init__(self, logger: logging.Logger, interval: float = 60.0) -> None:
        self.logger = logger
        self.interval = interval
        self._last: dict[tuple[str, str], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def report(self, fault: Unavailable) -> bool:
        """Log the fault unless it was logged within the interval; True if logged."""
        key = (fault.code, fault.message)
        now = time.monotonic()
        with self._lock:
            last, repeats = self._last.get(key, (-math.inf, 0))
            if now - last < self.interval:
                self._last[key] = (last, repeats + 1)
                return False
            if len(self._last) > 1000:
                self._last.clear()
            self._last[key] = (now, 0)
        again = f" ({repeats} more since the last report)" if repeats else ""
        self.logger.warning(
            "%s: %s; answering with retry after %d s%s",
            fault.code,
            fault.message,
            fault.retry_after,
            again,
            extra={"fields": {"repeats": repeats}},
        )
        return True


FAULTS = FaultLog(log)


def as_fault(exc: BaseException) -> Unavailable | None:
    """Classify and log once (rate-limited); None if `exc` is not a fault of the parts."""
    fault = classify(exc)
    if fault is not None:
        FAULTS.report(fault)
    return fault
