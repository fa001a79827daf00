"""One parser per kind of request parameter: instants, row ids, cursors, time zones, text.

Native and profile routes take their parameters through these, so every value
out of range becomes a ParamError naming the parameter (a 4xx), never an
exception deeper down (an int64 overflow in SQL, a zone file that is a folder).
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from usagekit.core.clock import MAX_TIME_MS
from usagekit.core.errors import ParamError
from usagekit.core.events import _datetime_ms
from usagekit.core.jsondata import BAD_TEXT

if TYPE_CHECKING:
    from usagekit.core.windows import Granularity

MAX_ID = 2**63 - 1  # row ids and sequence numbers are signed 64-bit in SQL
MAX_TEXT = 256
MAX_ZONE_LEN = 64  # the longest IANA name is about half that
_DIGITS = re.compile(r"-?[0-9]{1,30}")
_ZONE = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")


def ascii_int(value: str, param: str, lo: int, hi: int) -> int:
    """A decimal integer in [lo, hi] in ASCII digits (no superscripts, no other scripts)."""
    text = value.strip()
    if not _DIGITS.fullmatch(text):
        raise ParamError(f"{param}: {_show(value)} is not an integer", param)
    number = int(text)
    if not lo <= number <= hi:
        raise ParamError(f"{param}: {_show(value)} is out of range ({lo} to {hi})", param)
    return number


def row_id(value: str, param: str) -> int:
    """A positive 64-bit id as it appears in a path (failure ids, event seqs)."""
    return ascii_int(value, param, 1, MAX_ID)


def instant(value: str, param: str) -> int:
    """RFC 3339 with an offset, or Unix ms in ASCII digits, within 1970..9999 -> Unix ms."""
    text = value.strip()
    if _DIGITS.fullmatch(text):
        return ascii_int(text, param, 0, MAX_TIME_MS)
    if BAD_TEXT.search(text) or len(text) > 64:
        raise ParamError(f"{param}: {_show(value)} is not RFC 3339 or Unix ms", param)
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ParamError(
            f"{param}: {_show(value)} is not RFC 3339 (e.g. 2026-11-02T10:15:00Z) or Unix ms",
            param,
        ) from None
    if dt.tzinfo is None:
        raise ParamError(f"{param}: {_show(value)} has no UTC offset; add Z or +hh:mm", param)
    ms = _datetime_ms(dt)
    if not 0 <= ms <= MAX_TIME_MS:
        raise ParamError(f"{param}: {_show(value)} is out of range (1970 to 9999)", param)
    return ms


def cursor(value: str, n: int, param: str = "cursor") -> tuple[int, ...]:
    """The n non-negative 64-bit integers of a pagination cursor made by encode_cursor."""
    bad = ParamError(f"{param}: not a cursor returned by this API", param)
    if len(value) > 120:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise bad from None
    parts = raw.split(":")
    if len(parts) != n or not all(p.isascii() and p.isdigit() and len(p) <= 19 for p in parts):
        raise bad
    numbers = tuple(int(p) for p in parts)
    if any(x > MAX_ID for x in numbers):
        raise bad
    return numbers


def encode_cursor(*parts: int) -> str:
    return base64.urlsafe_b64encode(":".join(map(str, parts)).encode()).decode().rstrip("=")


def zone(name: str, param: str = "tz") -> ZoneInfo:
    """An IANA time zone by name; not a path, not a folder of the zone database."""
    bad = ParamError(
        f"{param}: unknown time zone {_show(name)}; use an IANA name such as Europe/Paris", param
    )
    if len(name) > MAX_ZONE_LEN or not _ZONE.fullmatch(name):
        raise bad
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError, UnicodeError):
        raise bad from None


def granularity(value: str, param: str = "granularity") -> Granularity:
    """minute, hour, day, week or month."""
    from usagekit.core.windows import Granularity  # windows takes its zones from here

    try:
        return Granularity(value)
    except ValueError:
        allowed = ", ".join(g.value for g in Granularity)
        raise ParamError(f"{param}: must be one of {allowed}", param) from None


def text(value: str, param: str, max_len: int = MAX_TEXT) -> str:
    """A name or label: at most max_len characters, no NUL, no lone surrogate."""
    if len(value) > max_len:
        raise ParamError(f"{param}: longer than {max_len} characters", param)
    if BAD_TEXT.search(value):
        raise ParamError(f"{param}: contains a NUL character or a lone surrogate", param)
    return value


def _show(value: str) -> str:
    return repr(value[:40])
