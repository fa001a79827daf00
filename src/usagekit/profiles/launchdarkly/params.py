"""A LaunchDarkly usage request checked against its endpoint row and resolved into a plan.

Pure: `now_ms` is passed in. Every refusal is a ParamError naming the parameter, in
words a LaunchDarkly client user can act on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from usagekit.core.clock import END_OF_TIME
from usagekit.core.errors import ParamError
from usagekit.core.windows import (
    DAY,
    HOUR,
    MAX_BUCKETS,
    MINUTE,
    Granularity,
    WindowError,
    zone,
)
from usagekit.profiles.launchdarkly.model import DAILY, GRANULARITIES, Endpoint, Reply, Since

_DIGITS = re.compile(r"^\d{1,16}$")

_BACK = {Since.DAYS_30: 30 * DAY, Since.HOURS_24: DAY, Since.DAYS_7: 7 * DAY,
         Since.DAYS_60: 60 * DAY}  # fmt: skip
_STEP = {Granularity.MINUTE: MINUTE, Granularity.HOUR: HOUR, Granularity.DAY: DAY,
         Granularity.MONTH: 28 * DAY}  # fmt: skip
_SINGLE = ("from", "to", "aggregationType", "granularity", "tz")


@dataclass(frozen=True, slots=True)
class Plan:
    """What to ask the engine: [start, end) ms, buckets, window kind, groups and filters."""

    start: int
    end: int
    granularity: Granularity
    tz: str
    aggregation: str  # the engine's: incremental, month_to_date, rolling_30d
    labels: tuple[str, ...]  # LaunchDarkly's name for each grouping, in order
    group_by: tuple[str, ...]  # the meter dimension of each grouping
    filters: dict[str, list[str]]
    path: dict[str, str]  # the path parameters, as given


def month_start(ms: int) -> int:
    """Midnight UTC of the first day of the month holding `ms`."""
    day = datetime.fromtimestamp(ms / 1000, UTC)
    return int(datetime(day.year, day.month, 1, tzinfo=UTC).timestamp()) * 1000


def default_start(since: Since, now_ms: int) -> int:
    return month_start(now_ms) if since is Since.MONTH_START else now_ms - _BACK[since]


def auto_granularity(start: int, now_ms: int) -> Granularity:
    """Minutely within the past two hours, hourly within two days, else daily."""
    age = now_ms - start
    if age <= 2 * HOUR:
        return Granularity.MINUTE
    if age <= 2 * DAY:
        return Granularity.HOUR
    return Granularity.DAY


def _instant(text: str, param: str, seconds: bool) -> int:
    unit = "seconds" if seconds else "milliseconds"
    if not _DIGITS.match(text.strip()):
        raise ParamError(f"{param}: {text[:40]!r} is not a timestamp in Unix {unit}", param)
    ms = int(text) * (1000 if seconds else 1)
    if ms >= END_OF_TIME:
        raise ParamError(f"{param}: {text!r} is too far in the future (Unix {unit})", param)
    return ms


def _one_of(param: str, value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        valid = ", ".join(allowed)
        raise ParamError(f"{param}: {value[:60]!r} is not valid; valid values: {valid}", param)
    return value


def _gather(ep: Endpoint, query: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Query values by name; unknown names, empty values and repeated single values refused."""
    taken = ep.parameters
    got: dict[str, list[str]] = {}
    for name, value in query:
        if name not in taken:
            offered = ", ".join(taken) or "no query parameters"
            message = f"unknown parameter {name[:40]!r}; this endpoint takes {offered}"
            raise ParamError(message, name)
        if not value.strip():
            raise ParamError(f"{name}: empty value", name)
        got.setdefault(name, []).append(value)
    for name in _SINGLE:
        if len(got.get(name, ())) > 1:
            raise ParamError(f"{name}: give it at most once", name)
    return got


def _range(ep: Endpoint, got: dict[str, list[str]], now_ms: int) -> tuple[int, int]:
    end = _instant(got["to"][0], "to", ep.seconds) if "to" in got else now_ms
    if "from" in got:
        start = _instant(got["from"][0], "from", ep.seconds)
    else:
        start = default_start(ep.since, now_ms)
    if end <= start:
        raise ParamError("to: must be after from", "to" if "to" in got else "from")
    if ep.max_days is not None and end - start > ep.max_days * DAY:
        raise ParamError(
            f"from: the time range is longer than the maximum of {ep.max_days} days", "from"
        )
    return start, end


def _windows(ep: Endpoint, got: dict[str, list[str]]) -> tuple[str, str]:
    """(engine aggregation type, LaunchDarkly granularity or '' for automatic)."""
    if ep.aggregations is None:
        return ep.aggregation, "" if ep.auto_granularity else DAILY
    asked = got.get("aggregationType", [ep.default_aggregation])[0]
    kind, granularities = ep.aggregations[_one_of("aggregationType", asked, list(ep.aggregations))]
    granularity = got.get("granularity", [DAILY])[0]
    if "granularity" in got:
        every = sorted({g for _, gs in ep.aggregations.values() for g in gs})
        _one_of("granularity", granularity, every)
        if granularity not in granularities:
            raise ParamError(
                f"granularity: {granularity!r} is not supported with aggregationType {asked!r}; "
                f"use {' or '.join(granularities)}",
                "granularity",
            )
    return kind, granularity


def resolve(
    ep: Endpoint, path: Mapping[str, str], query: Sequence[tuple[str, str]], now_ms: int
) -> Plan:
    """The plan for one request to `ep`, or ParamError naming what to fix."""
    got = _gather(ep, query)
    filters: dict[str, list[str]] = {dim: list(values) for dim, values in ep.fixed.items()}
    for name, (dim, allowed) in ep.path_filters.items():
        value = path[name]
        filters[dim] = [_one_of(name, value, allowed) if allowed else value]
    for name, dim in ep.filters.items():
        values = got.get(name) or list(ep.defaults.get(name, ()))
        for value in values:
            if name in ep.choices:
                _one_of(name, value, ep.choices[name])
        if values:
            filters[dim] = values
    if ep.env_needs_project is not None:
        env, project = ep.env_needs_project
        if env in got and len(got.get(project, ())) != 1:
            raise ParamError(f"{env}: exactly one {project} must be given with it", env)
    labels = [label for label, _ in ep.series_by]
    dims = [dim for _, dim in ep.series_by]
    for value in got.get(ep.group_param, ()):
        _one_of(ep.group_param, value, list(ep.group_by))
        if ep.group_by[value] not in dims:
            labels.append(value)
            dims.append(ep.group_by[value])
    start, end = _range(ep, got, now_ms) if ep.ranged else (default_start(ep.since, now_ms), now_ms)
    aggregation, granularity = _windows(ep, got)
    tz = got.get("tz", ["UTC"])[0]
    try:
        zone(tz)
    except WindowError as exc:
        raise ParamError(f"tz: {exc}", "tz") from None
    gran = auto_granularity(start, now_ms) if not granularity else GRANULARITIES[granularity]
    if (
        ep.reply in (Reply.SERIES, Reply.SERIES_FLOAT)
        and (end - start) // _STEP[gran] >= MAX_BUCKETS
    ):
        raise ParamError(
            f"from: the range holds more than {MAX_BUCKETS} {gran.value} buckets; shorten it",
            "from",
        )
    return Plan(start, end, gran, tz, aggregation, tuple(labels), tuple(dims), filters, dict(path))
