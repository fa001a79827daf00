"""A plain-Python reference for query results: loops over events, nothing shared with usagekit.

Given the events as sent (in order), the voided ids and a window [start, end), it
computes what a meter must report. Buckets and windows are checked from their
definitions with zoneinfo alone.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo


def instant(text: str) -> int:
    """RFC 3339 (with offset) -> Unix ms."""
    dt = datetime.fromisoformat(text)
    return round(dt.timestamp() * 1000)


def ms_of(value: Any) -> int:
    return value if isinstance(value, int) else instant(value)


def live_events(sent: list[dict[str, Any]], voided: set[tuple[str, str]]) -> list[dict[str, Any]]:
    """First occurrence of each (source, id), minus voided ones, in the order sent."""
    seen: set[tuple[str, str]] = set()
    out = []
    for e in sent:
        key = (e.get("source", "default"), e["id"])
        if key in seen:
            continue
        seen.add(key)
        if key not in voided:
            out.append(e)
    return out


def dig(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def label(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def numeric(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value).strip())
    except ArithmeticError:
        return None


def aggregate(
    meter: dict[str, Any],
    events: list[dict[str, Any]],
    start: int,
    end: int,
    group: dict[str, str | None],
    filters: dict[str, list[str]],
    subjects: list[str] | None,
) -> Any:
    """The meter's value over [start, end) for one group, by a plain loop."""
    dims = meter.get("dimensions", {})
    picked = []
    for order, e in enumerate(events):
        if e["type"] != meter["event_type"] or not start <= ms_of(e["time"]) < end:
            continue
        values = {name: label(dig(e.get("data", {}), path)) for name, path in dims.items()}
        values["subject"] = e["subject"]
        if subjects is not None and e["subject"] not in subjects:
            continue
        if any(values[k] not in allowed for k, allowed in filters.items()):
            continue
        if any(values[k] != v for k, v in group.items()):
            continue
        picked.append((order, e))
    agg = meter["aggregation"]
    if agg == "count":
        return len(picked)
    if agg == "unique_count":
        prop = meter.get("value_property")
        seen = {label(dig(e.get("data", {}), prop)) if prop else e["subject"] for _, e in picked}
        seen.discard(None)
        return len(seen)
    nums = [
        (ms_of(e["time"]), order, numeric(dig(e.get("data", {}), meter["value_property"])))
        for order, e in picked
    ]
    nums = [n for n in nums if n[2] is not None]
    if agg == "sum":
        return sum((n[2] for n in nums), Decimal(0))
    if not nums:
        return None
    if agg == "min":
        return min(n[2] for n in nums)
    if agg == "max":
        return max(n[2] for n in nums)
    if agg == "avg":
        return Fraction(sum((n[2] for n in nums), Decimal(0))) / len(nums)
    if agg == "latest":
        return max(nums, key=lambda n: (n[0], n[1]))[2]
    raise AssertionError(agg)


def same(expected: Any, actual: Any) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, Fraction):
        return abs(float(expected) - actual) <= 1e-12 * max(1.0, abs(float(expected)))
    if isinstance(expected, Decimal):
        return Decimal(str(actual)) == expected or float(expected) == actual
    return bool(expected == actual)


def window_start(bucket_end: int, aggregation_type: str, tz: ZoneInfo, bucket_start: int) -> int:
    """Where the window reported at a bucket begins, from the definitions in API.md."""
    if aggregation_type == "incremental":
        return bucket_start
    local_end = datetime.fromtimestamp((bucket_end - 1) / 1000, tz)
    if aggregation_type == "month_to_date":
        first = datetime(local_end.year, local_end.month, 1, tzinfo=tz)
        return round(first.timestamp() * 1000)
    days = int(aggregation_type.removeprefix("rolling_").removesuffix("d"))
    end_local = datetime.fromtimestamp(bucket_end / 1000, tz)
    if datetime.fromtimestamp((bucket_end - 1) / 1000, tz).date() != end_local.date():
        # The bucket ends where a local day starts: N whole local days back (the first
        # instant of that date, which a DST gap may put at 01:00).
        first = end_local.date() - timedelta(days=days)
        return round(datetime(first.year, first.month, first.day, tzinfo=tz).timestamp() * 1000)
    wall = end_local.replace(tzinfo=None) - timedelta(days=days)
    return round(wall.replace(tzinfo=tz).timestamp() * 1000)


def bucket_label(ms: int, granularity: str, tz: ZoneInfo) -> tuple[Any, ...]:
    """Which local bucket an instant falls in (offset included, so repeated hours differ)."""
    local = datetime.fromtimestamp(ms / 1000, tz)
    if granularity == "minute":
        return (local.replace(second=0, microsecond=0), local.utcoffset())
    if granularity == "hour":
        return (local.replace(minute=0, second=0, microsecond=0), local.utcoffset())
    if granularity == "day":
        return (local.date(),)
    if granularity == "week":
        return (local.date() - timedelta(days=local.weekday()),)
    return (local.year, local.month)


def check_tiling(
    rows: list[dict[str, Any]], start: int, end: int, granularity: str, tz: ZoneInfo
) -> None:
    """Rows of one group tile [start, end); each is exactly one local bucket."""
    assert rows, "no rows"
    assert instant(rows[0]["start"]) == start
    assert instant(rows[-1]["end"]) == end
    for prev, row in itertools.pairwise(rows):
        assert prev["end"] == row["start"]
    for row in rows:
        lo, hi = instant(row["start"]), instant(row["end"])
        assert lo < hi
        assert bucket_label(lo, granularity, tz) == bucket_label(hi - 1, granularity, tz), row
    for row in rows[1:]:
        lo = instant(row["start"])
        assert bucket_label(lo - 1, granularity, tz) != bucket_label(lo, granularity, tz), row


def utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()
