"""Log lines: one line per record, logfmt (default) or JSON, for every process of the server.

uvicorn's own lines, the request lines, faults and server errors all go through
`Formatter`; an exception is one field (its traceback with escaped newlines), so a
line is always one record. Inside a request, every line carries its request id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import orjson

FORMATS = ("logfmt", "json")
_RENAMED = {"uvicorn.error": "uvicorn"}  # uvicorn's general logger, despite its name
LEVELS = ("debug", "info", "warning", "error")


@dataclass(slots=True)
class RequestInfo:
    """What a request's log line says about who sent it; filled in as it is learnt."""

    request_id: str
    key_id: str | None = None
    tenant_id: int | None = None


# The request being served on this task (set by the server's request middleware).
CURRENT: ContextVar[RequestInfo | None] = ContextVar("usagekit_request", default=None)


class Formatter(logging.Formatter):
    """A record as one line of `time level logger msg` and its fields, in logfmt or JSON.

    Fields come from `extra={"fields": {...}}`; None values are left out.
    """

    def __init__(self, style: str = "logfmt") -> None:
        super().__init__()
        if style not in FORMATS:
            raise ValueError(f"log format: use logfmt or json, not {style!r}")
        self.json = style == "json"

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": _RENAMED.get(record.name, record.name),
            "pid": record.process,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            line.update(fields)
        request = CURRENT.get()
        if request is not None and "request_id" not in line:
            line["request_id"] = request.request_id
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        clean = {k: v for k, v in line.items() if v is not None}
        if self.json:
            return orjson.dumps(clean, default=str).decode()
        return " ".join(f"{key}={_logfmt(value)}" for key, value in clean.items())


def _timestamp(created: float) -> str:
    whole = int(created)
    millis = int((created - whole) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@+,;%()[]")


def _logfmt(value: object) -> str:
    """A value as logfmt writes it: bare when plain, else quoted with escapes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if text and all(c in _PLAIN for c in text):
        return text
    return orjson.dumps(text).decode()  # escapes quotes, backslashes and control chars


def configure(style: str = "logfmt", level: str | int = "info") -> None:
    """Log every record of this process to stderr as one line in `style` at `level`."""
    handler = logging.StreamHandler()
    handler.setFormatter(Formatter(style))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
