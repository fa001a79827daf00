"""LaunchDarkly test data: generated ld.* events and a plain-Python oracle for the series.

The oracle shares nothing with usagekit: buckets and windows come from zoneinfo and
datetime, values from loops over the events as sent.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from tests.oracle import label

MINUTE = 60_000
HOUR = 3_600_000
DAY = 86_400_000

PROJECTS = ("web", "mobile")
ENVS = ("production", "staging")
SDKS = (("react", "client", "browser"), ("ios", "client", "mobile"), ("go", "server", "backend"),
        ("node", "server", "backend"))  # fmt: skip


def events(now: int, n: int, seed: int) -> list[dict[str, Any]]:
    """n events of every ld.* type over the 70 days before `now`, denser in the last two days."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(n):
        roll = rng.random()
        if roll < 0.3:
            back = rng.randint(MINUTE, 2 * HOUR)
        elif roll < 0.55:
            back = rng.randint(MINUTE, 2 * DAY)
        else:
            back = rng.randint(MINUTE, 70 * DAY)
        kind, data = _event(rng, i)
        out.append({"id": f"ld-{i}", "source": "ld-test", "type": kind,
                    "subject": f"s{i % 11}", "time": now - back, "data": data})  # fmt: skip
    return out


def _event(rng: random.Random, i: int) -> tuple[str, dict[str, Any]]:
    place = {"projectKey": rng.choice(PROJECTS), "environmentKey": rng.choice(ENVS)}
    sdk, sdk_type, category = rng.choice(SDKS)
    kind = i % 10
    if kind < 4:
        context_kind = rng.choice(["user", "user", "device", "organization"])
        return "ld.context", {
            **place, "contextKind": context_kind,
            "contextKey": f"{context_kind}-{rng.randint(1, 40)}",
            "sdkName": sdk, "sdkType": sdk_type, "sdkVersion": rng.choice(["1.0", "2.1"]),
            "sdkAppId": rng.choice(["app-a", "app-b"]), "anonymous": rng.random() < 0.2,
            "primary": context_kind != "organization", "category": category,
        }  # fmt: skip
    if kind == 4:
        return "ld.evaluation", {**place, "flagKey": rng.choice(["dark-mode", "checkout"]),
                                 "variation": rng.randint(0, 2)}  # fmt: skip
    if kind == 5:
        choice = rng.random()
        if choice < 0.3:
            return "ld.event", {"kind": rng.choice(["received", "published"])}
        if choice < 0.65:
            return "ld.data_export_event", {**place, "eventKind": rng.choice(["custom", "index"])}
        kinds = {"eventKey": rng.choice(["click", "buy"]),
                 "eventKind": rng.choice(["custom", "feature"])}  # fmt: skip
        return "ld.experimentation_event", {**place, **kinds}
    if kind == 6:
        return "ld.experimentation_key", {**place, "experimentId": rng.choice(["exp1", "exp2"]),
                                          "key": f"k{rng.randint(1, 30)}"}  # fmt: skip
    if kind == 7:
        return "ld.observability", {
            "projectKey": place["projectKey"], "count": rng.randint(1, 50),
            "kind": rng.choice(["errors", "logs", "metrics", "sessions", "traces"]),
        }  # fmt: skip
    if kind == 8:
        if rng.random() < 0.5:
            return "ld.vega_ai", {"projectKey": place["projectKey"], "count": rng.randint(1, 9)}
        return "ld.service_connection", {
            **place, "connectionType": rng.choice(["relay", "direct"]),
            "relayVersion": rng.choice(["8.1", "8.2"]), "sdkName": sdk, "sdkType": sdk_type,
            "sdkVersion": rng.choice(["1.0", "2.1"]), "sdkAppId": "app-a",
            "minutes": rng.randint(1, 240) / 4,
        }  # fmt: skip
    return "ld.stream", {"source": sdk_type, "sdk": sdk, "version": rng.choice(["1.0", "2.1"]),
                         "connections": rng.randint(1, 20)}  # fmt: skip


def _local(ms: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz)


def _ms(dt: datetime) -> int:
    return round(dt.timestamp() * 1000)


def bucket_edges(start: int, end: int, granularity: str, tz: ZoneInfo) -> list[tuple[int, int]]:
    """[lo, hi) buckets covering [start, end), the first and last clipped to the range."""
    d = _local(start, tz)
    if granularity == "minute":
        edge = d.replace(second=0, microsecond=0)
    elif granularity == "hour":
        edge = d.replace(minute=0, second=0, microsecond=0)
    elif granularity == "day":
        edge = datetime(d.year, d.month, d.day, tzinfo=tz)
    else:
        edge = datetime(d.year, d.month, 1, tzinfo=tz)
    out = []
    lo = _ms(edge)
    while lo < end:
        if granularity == "minute":
            hi = lo + MINUTE
        elif granularity == "hour":
            hi = lo + HOUR
        elif granularity == "day":
            day = _local(lo, tz).date() + timedelta(days=1)
            hi = _ms(datetime(day.year, day.month, day.day, tzinfo=tz))
        else:
            m = _local(lo, tz)
            hi = _ms(datetime(m.year + m.month // 12, m.month % 12 + 1, 1, tzinfo=tz))
        out.append((max(lo, start), min(hi, end)))
        lo = hi
    return out


def window(lo: int, hi: int, kind: str, tz: ZoneInfo) -> tuple[int, int]:
    """What a bucket reports: itself, its month so far, or the 30 days before its end."""
    if kind == "incremental":
        return lo, hi
    if kind == "month_to_date":
        last = _local(hi - 1, tz)
        return _ms(datetime(last.year, last.month, 1, tzinfo=tz)), hi
    back = _local(hi, tz).replace(tzinfo=None) - timedelta(days=30)
    return _ms(back.replace(tzinfo=tz)), hi


Value = tuple[str, str | None]  # ("count", None) | ("sum", field) | ("distinct", field)


def oracle(
    sent: list[dict[str, Any]],
    event_type: str,
    value: Value,
    filters: dict[str, set[str]],
    groups: list[str],
    start: int,
    end: int,
    granularity: str,
    kind: str = "incremental",
    tz: str = "UTC",
) -> tuple[list[int], dict[tuple[str | None, ...], list[Any]]]:
    """(bucket times, values per group) as the endpoint must report them."""
    zone = ZoneInfo(tz)
    spans = bucket_edges(start, end, granularity, zone)
    chosen = [
        e
        for e in sent
        if e["type"] == event_type
        and all(label(e["data"].get(f)) in allowed for f, allowed in filters.items())
    ]
    by_group: dict[tuple[str | None, ...], list[dict[str, Any]]] = {}
    for e in chosen:
        by_group.setdefault(tuple(label(e["data"].get(g)) for g in groups), []).append(e)
    if not groups:
        by_group.setdefault((), [])
    out: dict[tuple[str | None, ...], list[Any]] = {}
    for group, evs in by_group.items():
        column = []
        for lo, hi in spans:
            a, b = window(lo, hi, kind, zone)
            inside = [e for e in evs if a <= e["time"] < b]
            column.append(_value(inside, value))
        if any(column) or not groups:  # a group with no usage in the range has no series
            out[group] = column
    return [lo for lo, _ in spans], out


def _value(inside: list[dict[str, Any]], value: Value) -> Any:
    how, name = value
    if how == "count":
        return len(inside)
    if how == "distinct":
        return len({label(e["data"].get(name or "")) for e in inside} - {None})
    total = sum((Fraction(e["data"][name or ""]) for e in inside), Fraction(0))
    return int(total) if total.denominator == 1 else float(total)


def columns(reply: dict[str, Any], labels: Callable[[dict[str, Any]], tuple[Any, ...]]) -> Any:
    """(times, {group: values}) of a SeriesListRep, groups read from each series' metadata."""
    times = [row["time"] for row in reply["series"]]
    out = {}
    for i, meta in enumerate(reply["metadata"]):
        out[labels(meta)] = [row[str(i)] for row in reply["series"]]
    return times, out
