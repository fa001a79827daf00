"""Time buckets in any IANA zone, aggregation windows, and their split into rollup pieces.

All instants are Unix milliseconds (UTC). Bucket edges are local wall-clock edges
(DST and non-whole-hour offsets included) expressed as UTC instants.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from usagekit.core import params
from usagekit.core.clock import END_OF_TIME
from usagekit.core.errors import ParamError

MINUTE = 60_000
QUARTER = 15 * MINUTE
HOUR = 3_600_000
DAY = 86_400_000
# Rollup levels, largest first; RAW means "read raw events". Every current IANA
# offset is a multiple of 15 minutes, so local hours and days are whole quarters.
ROLLUP_LEVELS = (DAY, HOUR, QUARTER)
DISTINCT_LEVELS = (DAY, HOUR)
RAW = 0
MAX_BUCKETS = 20_000


class Granularity(StrEnum):
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class WindowError(ParamError):
    """A query's time parameters do not make sense; `param` names the culprit."""


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or WindowError naming `tz`."""
    try:
        return params.zone(name)
    except ParamError as exc:
        raise WindowError(str(exc), exc.param) from None


def _local(ms: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ms // 1000, tz)


def _ms(dt: datetime) -> int:
    return int(dt.timestamp()) * 1000


def _midnight(d: date, tz: ZoneInfo) -> int:
    return _ms(datetime(d.year, d.month, d.day, tzinfo=tz))


def floor(ms: int, granularity: Granularity, tz: ZoneInfo) -> int:
    """Start of the local bucket containing `ms`."""
    local = _local(ms, tz)
    if granularity in (Granularity.MINUTE, Granularity.HOUR):
        return _floor_clock(ms, MINUTE if granularity is Granularity.MINUTE else HOUR, tz)
    d = local.date()
    if granularity is Granularity.WEEK:
        d -= timedelta(days=d.weekday())
    elif granularity is Granularity.MONTH:
        d = d.replace(day=1)
    start = _midnight(d, tz)
    return start if start <= ms else _midnight(d - timedelta(days=1), tz)


def _floor_clock(ms: int, step: int, tz: ZoneInfo) -> int:
    """Start of the local minute or hour holding `ms`, at `ms`'s own UTC offset: where the
    offset changed since the hour began (Chatham's :45, Lord Howe's half hour), the
    bucket starts at the change, so a repeated or skipped hour is never one bucket."""
    offset = _local(ms, tz).utcoffset()
    assert offset is not None
    off = int(offset.total_seconds()) * 1000
    start = (ms + off) // step * step - off
    if _local(start, tz).utcoffset() == offset:
        return start
    edge = ms // MINUTE * MINUTE
    while _local(edge - MINUTE, tz).utcoffset() == offset:
        edge -= MINUTE
    return edge


def next_edge(start: int, granularity: Granularity, tz: ZoneInfo) -> int:
    """Start of the bucket after the one starting at `start` (END_OF_TIME past year 9999)."""
    try:
        return _next_edge(start, granularity, tz)
    except (OverflowError, ValueError):
        return END_OF_TIME


def _next_edge(start: int, granularity: Granularity, tz: ZoneInfo) -> int:
    if granularity in (Granularity.MINUTE, Granularity.HOUR):
        step = MINUTE if granularity is Granularity.MINUTE else HOUR
        candidate = floor(start + step, granularity, tz)
        candidate = candidate if candidate > start else start + step
        return _first_offset_change(start, candidate, tz)
    d = _local(start, tz).date()
    if granularity is Granularity.DAY:
        d += timedelta(days=1)
    elif granularity is Granularity.WEEK:
        d += timedelta(days=7 - d.weekday())
    else:
        d = date(d.year + d.month // 12, d.month % 12 + 1, 1)
    return _midnight(d, tz)


def _first_offset_change(start: int, end: int, tz: ZoneInfo) -> int:
    """`end`, or the first minute in (start, end) where the UTC offset changes: a bucket
    never spans a change off the hour (Chatham's :45, Lord Howe's half hour), so each
    holds one local hour (or minute) at one offset."""
    offset = _local(start, tz).utcoffset()
    if _local(end - 1, tz).utcoffset() == offset:
        return end
    edge = start + MINUTE
    while _local(edge, tz).utcoffset() == offset:
        edge += MINUTE
    return edge


def check_local(ms: int, tz: ZoneInfo, param: str) -> None:
    """WindowError naming `param` when `ms` is not a date the zone can show (past 9999)."""
    try:
        _local(ms, tz).isoformat()
    except (OverflowError, ValueError):
        raise WindowError(
            f"{param}: in time zone {tz.key} this instant is past year 9999", param
        ) from None


def buckets(start: int, end: int, granularity: Granularity, tz: ZoneInfo) -> list[tuple[int, int]]:
    """Local buckets covering [start, end), the first and last clipped to the range."""
    if end <= start:
        raise WindowError("'to' must be after 'from'", "to")
    out: list[tuple[int, int]] = []
    edge = floor(start, granularity, tz)
    while edge < end:
        nxt = next_edge(edge, granularity, tz)
        out.append((max(edge, start), min(nxt, end)))
        if len(out) > MAX_BUCKETS:
            raise WindowError(
                f"more than {MAX_BUCKETS} buckets; use a coarser granularity or a shorter range",
                "granularity",
            )
        edge = nxt
    return out


_ROLLING = re.compile(r"^rolling_(\d{1,3})d$")


def parse_aggregation_type(value: str) -> int | str:
    """'incremental' | 'month_to_date' | 'rolling_<N>d' -> the name, or N days for rolling."""
    if value in ("incremental", "month_to_date"):
        return value
    m = _ROLLING.match(value)
    if m and 1 <= int(m.group(1)) <= 366:
        return int(m.group(1))
    raise WindowError(
        f"unknown aggregation_type {value!r}; use incremental, month_to_date or rolling_<N>d "
        "(e.g. rolling_30d)",
        "aggregation_type",
    )


def windows(
    spans: list[tuple[int, int]], aggregation_type: int | str, tz: ZoneInfo
) -> list[tuple[int, int]]:
    """The window each bucket reports: the bucket itself, the month so far, or N days back."""
    if aggregation_type == "incremental":
        return list(spans)
    out = []
    for _, end in spans:
        local_end = _local(end - 1, tz)
        if aggregation_type == "month_to_date":
            start = _midnight(local_end.date().replace(day=1), tz)
        else:
            assert isinstance(aggregation_type, int)
            end_date = _local(end, tz).date()
            if _midnight(end_date, tz) == end:
                # A bucket ending where a local day starts covers whole days back, even
                # where that day starts at 01:00 (a DST gap at midnight).
                start = _midnight(end_date - timedelta(days=aggregation_type), tz)
            else:
                back = datetime.fromtimestamp(end / 1000, tz).replace(tzinfo=None)
                back -= timedelta(days=aggregation_type)
                start = int(back.replace(tzinfo=tz).timestamp() * 1000)
        out.append((start, end))
    return out


@dataclass(frozen=True, slots=True)
class Elementary:
    """Disjoint intervals bounds[k]..bounds[k+1]; window i is intervals runs[i][0]..runs[i][1]-1."""

    bounds: list[int]
    runs: list[tuple[int, int]]

    @property
    def intervals(self) -> list[tuple[int, int]]:
        return list(zip(self.bounds, self.bounds[1:], strict=False))

    def index_of(self, ms: int) -> int:
        """Index of the interval containing ms, or -1 when outside all."""
        k = bisect.bisect_right(self.bounds, ms) - 1
        return k if 0 <= k < len(self.bounds) - 1 else -1


def elementary(wins: list[tuple[int, int]]) -> Elementary:
    """Cut the union of windows at every window edge, so each window is a run of pieces."""
    bounds = sorted({e for w in wins for e in w})
    pos = {b: k for k, b in enumerate(bounds)}
    return Elementary(bounds, [(pos[s], pos[e]) for s, e in wins])


Piece = tuple[int, int, int]  # (level or RAW, lo, hi)


def decompose(lo: int, hi: int, levels: tuple[int, ...] = ROLLUP_LEVELS) -> list[Piece]:
    """Split [lo, hi) into aligned rollup ranges, largest level first; leftovers are RAW."""
    if lo >= hi:
        return []
    if not levels:
        return [(RAW, lo, hi)]
    level, rest = levels[0], levels[1:]
    a = -(-lo // level) * level
    b = hi // level * level
    if a >= b:
        return decompose(lo, hi, rest)
    return [*decompose(lo, a, rest), (level, a, b), *decompose(b, hi, rest)]


class Edge(StrEnum):
    FULL = "full"  # every row in [lo, hi) counts
    SUFFIX = "suffix"  # the row at bucket lo counts when its last time >= hi
    PREFIX = "prefix"  # the row at bucket lo counts when its first time < hi


DistinctPiece = tuple[Edge | None, int, int, int]  # (edge or None for RAW, level, lo, hi)


def decompose_distinct(lo: int, hi: int) -> list[DistinctPiece]:
    """Split [lo, hi) for distinct counting.

    A distinct row keeps the first and last time a value was seen in its bucket, so
    a piece that is a prefix or a suffix of a bucket is answered exactly from it.
    Only an interval strictly inside one hour needs raw events.
    """
    for level in DISTINCT_LEVELS:
        a = -(-lo // level) * level
        b = hi // level * level
        if a <= b:
            pieces: list[DistinctPiece] = []
            if lo < a:
                pieces.append((Edge.SUFFIX, level, a - level, lo))
            if a < b:
                pieces.append((Edge.FULL, level, a, b))
            if b < hi:
                pieces.append((Edge.PREFIX, level, b, hi))
            return pieces
    return [(None, RAW, lo, hi)]


def format_local(ms: int, tz: ZoneInfo) -> str:
    """An instant as RFC 3339 in the zone's offset at that instant ('Z' for UTC)."""
    text = datetime.fromtimestamp(ms / 1000, tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
