"""Query parameters as the API takes them, checked and resolved into a QuerySpec."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from usagekit.core import params
from usagekit.core.clock import SYSTEM_CLOCK, Clock
from usagekit.core.meters import Meter
from usagekit.core.numbers import Number
from usagekit.core.windows import (
    DAY,
    Granularity,
    check_local,
    floor,
    parse_aggregation_type,
    zone,
)
from usagekit.services.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class QuerySpec:
    start: int
    end: int
    granularity: Granularity
    tz: ZoneInfo
    aggregation_type: int | str
    group_by: tuple[str, ...] = ()
    filters: tuple[tuple[str, frozenset[str]], ...] = ()
    subjects: frozenset[str] | None = None


@dataclass(slots=True)
class Point:
    start: int
    end: int
    group: dict[str, str | None]
    value: Number | None


def build_spec(
    meter: Meter,
    start: str | None,
    end: str | None,
    granularity: str = "day",
    tz: str = "UTC",
    aggregation_type: str = "incremental",
    group_by: Sequence[str] = (),
    filters: dict[str, list[str]] | None = None,
    subjects: Sequence[str] | None = None,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> QuerySpec:
    """Validate query parameters against a meter; the error raised names the bad one."""
    gran = params.granularity(granularity)
    zone_info = zone(tz)
    agg_type = parse_aggregation_type(aggregation_type)
    start_ms, end_ms = resolve_range(start, end, gran, zone_info, clock=clock)
    check_local(start_ms, zone_info, "from")
    check_local(end_ms, zone_info, "to")
    known = {*meter.dimension_names, "subject"}
    for name in group_by:
        name = _text(name, "group_by")
        if name not in known:
            raise InvalidInput(_unknown_dimension(meter, name), "group_by")
    subject_set = {_text(s, "subject") for s in subjects} if subjects else None
    clean: list[tuple[str, frozenset[str]]] = []
    for name, values in sorted((filters or {}).items()):
        for value in values:
            _text(value, f"filter[{name}]")
        if name not in known:
            raise InvalidInput(_unknown_dimension(meter, name), f"filter[{name}]")
        if name == "subject":
            subject_set = set(values) if subject_set is None else subject_set & set(values)
        else:
            clean.append((name, frozenset(values)))
    return QuerySpec(
        start_ms,
        end_ms,
        gran,
        zone_info,
        agg_type,
        tuple(dict.fromkeys(group_by)),
        tuple(clean),
        frozenset(subject_set) if subject_set is not None else None,
    )


def resolve_range(
    start: str | None,
    end: str | None,
    granularity: Granularity = Granularity.DAY,
    tz: ZoneInfo | None = None,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> tuple[int, int]:
    """[from, to) in ms: `to` defaults to now, `from` to 30 days before, bucket-aligned."""
    end_ms = parse_instant(end, "to") if end else clock.now_ms()
    start_ms = (
        parse_instant(start, "from")
        if start
        else floor(end_ms - 30 * DAY, granularity, tz or zone("UTC"))
    )
    if end_ms <= start_ms:
        raise InvalidInput("'to' must be after 'from'", "to")
    return start_ms, end_ms


def parse_instant(value: str, param: str) -> int:
    """A query parameter given as RFC 3339 or Unix ms; ParamError naming it otherwise."""
    return params.instant(value, param)


_text = params.text


def _unknown_dimension(meter: Meter, name: str) -> str:
    dims = ", ".join(["subject", *meter.dimension_names])
    return f"meter {meter.slug!r} has no dimension {name!r}; it has: {dims}"
