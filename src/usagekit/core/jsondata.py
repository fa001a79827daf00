"""What an event's `data` may hold, and parsing bodies so that each record is judged alone.

`data` is stored as canonical JSON. Its integers must fit 64 bits (-2**63 to
2**64-1): larger ones cannot be kept exactly, so the record is rejected (send
them as strings; meters read numeric strings exactly). It nests at most
MAX_DEPTH levels, and no text in it holds a NUL or a lone surrogate.

orjson, the fast parser, turns integers past 64 bits into floats and stops at
1024 levels for a whole body; so a body that may hold such numbers, or that
orjson refuses, is split into its records without parsing them (`split_records`)
and each is parsed alone, exactly (`loads_exact`).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

MAX_DEPTH = 32  # levels of objects and arrays in `data`; {"a": 1} is one level
MIN_INT, MAX_INT = -(2**63), 2**64 - 1
# What no text field may hold: PostgreSQL refuses NUL, UTF-8 cannot carry a lone surrogate.
BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
# A number of 19 or more digits: one orjson may have turned into a float.
_LONG_NUMBER = re.compile(rb"[:,\[]\s*-?[0-9]{19}")
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},]|[^"\[\]{},]+')


class DataError(ValueError):
    """`data` cannot be stored as sent; the message names the path inside it."""


class Unrepresentable:
    """A number in a body that no Python float or 64-bit integer holds exactly."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def canonical(data: dict[str, Any]) -> str:
    """`data` as canonical JSON (sorted keys), or DataError naming what cannot be kept."""
    try:
        text = orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()
    except (orjson.JSONEncodeError, TypeError):
        check(data)
        raise DataError("data: cannot be stored as JSON") from None
    if "\\u0000" in text or (
        len(text) > 2 * MAX_DEPTH and text.count("{") + text.count("[") > MAX_DEPTH
    ):
        check(data)  # cheap tests first; most data never needs this walk
    return text


def check(data: dict[str, Any]) -> None:
    """Walk `data` (without recursion) and raise DataError at the first thing not storable."""
    stack: list[tuple[Any, str, int]] = [(data, "data", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict):
            if depth > MAX_DEPTH:
                raise DataError(f"{path}: nested deeper than {MAX_DEPTH} levels")
            for key, item in value.items():
                if not isinstance(key, str) or BAD_TEXT.search(key):
                    raise DataError(f"{path}: a key holds a NUL character or a lone surrogate")
                stack.append((item, f"{path}.{key[:40]}", depth + 1))
        elif isinstance(value, list):
            if depth > MAX_DEPTH:
                raise DataError(f"{path}: nested deeper than {MAX_DEPTH} levels")
            stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))
        elif isinstance(value, str):
            if BAD_TEXT.search(value):
                raise DataError(f"{path}: text holds a NUL character or a lone surrogate")
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if not MIN_INT <= value <= MAX_INT:
                raise DataError(
                    f"{path}: integer {str(value)[:30]} is beyond 64 bits and cannot be kept "
                    "exactly; send it as a string"
                )
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise DataError(f"{path}: not a finite number")
        elif isinstance(value, Unrepresentable):
            raise DataError(
                f"{path}: number {value.text[:30]} cannot be kept exactly; send it as a string"
            )
        else:
            raise DataError(f"{path}: a {type(value).__name__} is not JSON")


def printable(text: str) -> str:
    """`text` with NUL and lone surrogates written as \\uXXXX: fit for messages and columns."""
    return BAD_TEXT.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def keepable(record: Any) -> Any:
    """A rejected record as the failures table can keep it: itself, or its JSON text."""
    try:
        orjson.dumps(record)
        return record
    except (orjson.JSONEncodeError, TypeError):
        pass
    try:
        return json.dumps(record, default=lambda v: getattr(v, "text", repr(v)))[:100_000]
    except (RecursionError, ValueError):
        return "(record not kept: nested too deep to store)"


def may_lose_numbers(body: bytes) -> bool:
    """True when orjson might round a number of `body` (an integer of 19+ digits)."""
    return _LONG_NUMBER.search(body) is not None


def _int(text: str) -> int | Unrepresentable:
    if len(text.lstrip("-")) > 20:
        return Unrepresentable(text)
    return int(text)


def _float(text: str) -> float | Unrepresentable:
    value = float(text)
    return value if math.isfinite(value) else Unrepresentable(text)


def _constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def loads_exact(raw: bytes) -> Any:
    """One JSON value with integers kept exact; ValueError if it is not JSON.

    The caller bounds its nesting (split_records), so recursion never runs out.
    """
    return json.loads(raw, parse_int=_int, parse_float=_float, parse_constant=_constant)


def split_records(body: bytes) -> list[tuple[bytes, int]] | None:
    """The records of a JSON array or {"events": [...]} body, unparsed, with their depth.

    Only brackets, commas and strings are tokenized, so it never recurses. None
    when the body is not shaped like either (the caller reports the parse error).
    """
    stripped = body.strip()
    if stripped[:1] == b"[":
        inner = stripped
    elif stripped[:1] == b"{":
        found = re.match(rb'\{\s*"events"\s*:\s*(\[.*\])\s*\}\Z', stripped, re.S)
        if found is None:
            return [(stripped, _depth(stripped))]
        inner = found.group(1)
    else:
        return None
    items: list[tuple[bytes, int]] = []
    depth = item_depth = 0
    start = 1
    for m in _TOKEN.finditer(inner):
        tok = m.group()
        head = tok[:1]
        if head in (b"[", b"{"):
            depth += 1
            item_depth = max(item_depth, depth - 1)
        elif head in (b"]", b"}"):
            depth -= 1
            if depth == 0:
                if m.end() != len(inner):
                    return None
                last = inner[start : m.start()]
                if last.strip() or items:
                    items.append((last, item_depth))
                return items
        elif head == b"," and depth == 1:
            items.append((inner[start : m.start()], item_depth))
            start, item_depth = m.end(), 0
    return None


def _depth(raw: bytes) -> int:
    depth = deepest = 0
    for m in _TOKEN.finditer(raw):
        head = m.group()[:1]
        if head in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif head in (b"]", b"}"):
            depth -= 1
    return deepest
