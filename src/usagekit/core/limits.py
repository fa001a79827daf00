"""Limits: a meter's usage per period held against a value, and what a status says.

Pure: the definition and its checks (each error names the field), and the arithmetic
of a status, exact at any size (usage and limit compared as decimals, never floats).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from enum import StrEnum
from itertools import pairwise
from typing import Any

from usagekit.core import params
from usagekit.core.errors import ParamError
from usagekit.core.limit_periods import PeriodKind, period_kind
from usagekit.core.meters import SLUG
from usagekit.core.numbers import NANO, NotANumber, Number, to_nanos, to_number

MAX_THRESHOLDS = 20
MAX_THRESHOLD = 1000 * NANO  # percent, in nano-units
MAX_FILTER_VALUES = 100
# Enough digits for any difference of a float (1e308 .. 5e-324) and a limit, exactly.
_PREC = 800


class Scope(StrEnum):
    SUBJECT = "subject"  # each subject's usage against the limit
    TENANT = "tenant"  # the whole tenant's usage


class InvalidLimit(ParamError):
    """A limit definition that cannot work; `param` names the field."""


@dataclass(frozen=True, slots=True)
class Limit:
    """A limit definition; ids and stamps are assigned by the store."""

    slug: str
    meter: str
    period: PeriodKind
    tz: str
    limit_nanos: int
    thresholds: tuple[int, ...] = (100 * NANO,)  # percents in nano-units, ascending
    scope: Scope = Scope.SUBJECT
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    description: str | None = None
    id: int = 0
    tenant_id: int = 0
    meter_id: int = 0
    created_ms: int = 0
    updated_ms: int = 0
    # The span [first, last] of event times stored when the limit began counting (made,
    # or redefined): only there can a period hold events its kept usage has not seen.
    backlog: tuple[int, int] | None = None
    # Bumped at every redefinition: usage kept under an older epoch no longer counts.
    epoch: int = 0

    @property
    def value(self) -> Number:
        return to_number(self.limit_nanos)

    @property
    def percents(self) -> list[Number]:
        return [to_number(t) for t in self.thresholds]


def check_slug(slug: str) -> str:
    if not SLUG.match(slug):
        raise InvalidLimit(
            "slug: use 1-64 lowercase letters, digits, '_', '-' or '.', "
            "starting with a letter or digit",
            "slug",
        )
    return slug


def number_nanos(value: Any, param: str) -> int:
    """A JSON number (or a numeric string, for more digits than a float keeps) in nanos."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidLimit(f"{param}: must be a number", param)
    try:
        return to_nanos(value)
    except NotANumber as exc:
        raise InvalidLimit(f"{param}: {exc}", param) from None


def check_limit_value(value: Any) -> int:
    nanos = number_nanos(value, "limit")
    if nanos < 0:
        raise InvalidLimit("limit: must not be negative", "limit")
    return nanos


def check_thresholds(values: Any) -> tuple[int, ...]:
    """Percents of the limit: ascending, unique, each > 0 and <= 1000 (default [100])."""
    if values is None:
        return (100 * NANO,)
    if not isinstance(values, list) or not values:
        raise InvalidLimit("thresholds: must be a non-empty list of percents", "thresholds")
    if len(values) > MAX_THRESHOLDS:
        raise InvalidLimit(f"thresholds: at most {MAX_THRESHOLDS}", "thresholds")
    out = tuple(number_nanos(v, "thresholds") for v in values)
    if any(not 0 < t <= MAX_THRESHOLD for t in out):
        raise InvalidLimit("thresholds: each must be > 0 and <= 1000 (percent)", "thresholds")
    if any(a >= b for a, b in pairwise(out)):
        raise InvalidLimit("thresholds: must be ascending, without repeats", "thresholds")
    return out


def check_filters(values: Any, dimensions: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """{dimension: [values]} over the meter's own dimensions, each list non-empty."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise InvalidLimit("filter: must be an object {dimension: [values]}", "filter")
    out: dict[str, tuple[str, ...]] = {}
    for name, allowed in sorted(values.items()):
        where = f"filter.{name}"
        if name not in dimensions:
            have = ", ".join(dimensions) or "none"
            raise InvalidLimit(f"{where}: the meter has no such dimension (it has: {have})", where)
        if not isinstance(allowed, list) or not allowed or len(allowed) > MAX_FILTER_VALUES:
            raise InvalidLimit(f"{where}: must be a list of 1 to {MAX_FILTER_VALUES} values", where)
        if not all(isinstance(v, str) for v in allowed):
            raise InvalidLimit(f"{where}: values must be strings", where)
        out[name] = tuple(sorted({params.text(v, where) for v in allowed}))
    return out


def validate_limit(
    slug: str,
    meter: str,
    dimensions: tuple[str, ...],
    period: str,
    tz: str,
    limit: Any,
    thresholds: Any = None,
    scope: str = "subject",
    filters: Any = None,
    description: str | None = None,
) -> Limit:
    """A definition from the fields of a request; InvalidLimit naming the first bad one."""
    check_slug(slug)
    kind = period_kind(period)
    params.zone(tz)
    try:
        scope_kind = Scope(scope)
    except ValueError:
        raise InvalidLimit("scope: must be subject or tenant", "scope") from None
    if description is not None:
        params.text(description, "description", 2000)
    return Limit(
        slug,
        meter,
        kind,
        tz,
        check_limit_value(limit),
        check_thresholds(thresholds),
        scope_kind,
        check_filters(filters, dimensions),
        description,
    )


@dataclass(frozen=True, slots=True)
class Standing:
    """Usage against a limit: what the status routes show, all exact but `percent`."""

    usage: Number
    remaining: Number
    has_access: bool
    percent: Number | None  # usage / limit x 100, rounded half-even to 9 places
    reached: list[Number]  # thresholds with usage >= limit x threshold / 100


def exact(dec: Decimal) -> Number:
    """A decimal as the API writes numbers: int when whole, float when exact, else Decimal."""
    if dec == dec.to_integral_value():
        return int(dec)
    as_float = float(dec)
    return as_float if Decimal(repr(as_float)) == dec else dec.normalize()


def as_decimal(value: Number | None) -> Decimal:
    """A query's value exactly as it reads (a float as its shortest repr); None is 0."""
    if value is None:
        return Decimal(0)
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def reached(limit: Limit, usage: Number | None) -> tuple[int, ...]:
    """The thresholds (percents in nano-units) with usage >= limit x threshold / 100.

    In integers: usage as a ratio num/den (a float as its shortest repr, as everywhere),
    and num x 100 x 10^18 >= limit_nanos x threshold_nanos x den.
    """
    if usage is None or type(usage) is int:
        num, den = usage or 0, 1
    else:
        num, den = as_decimal(usage).as_integer_ratio()
    scaled = num * 100 * NANO * NANO
    return tuple(t for t in limit.thresholds if scaled >= limit.limit_nanos * t * den)


def reached_nanos(limit: Limit, nanos: int) -> tuple[int, ...]:
    """`reached` for a usage given exactly in nano-units (counts and sums): integer compares."""
    scaled = nanos * 100 * NANO
    return tuple(t for t in limit.thresholds if scaled >= limit.limit_nanos * t)


def least_reaching(limit: Limit) -> int | None:
    """The least usage in nano-units that reaches the lowest threshold (None: none):
    below it `reached_nanos` is empty, which spares most keys the compares."""
    if not limit.thresholds:
        return None
    return -(-limit.limit_nanos * limit.thresholds[0] // (100 * NANO))


def standing(limit: Limit, usage: Number | None) -> Standing:
    """Where `usage` (None: nothing in the period, read as 0) stands against `limit`."""
    used = as_decimal(usage)
    cap = Decimal(limit.limit_nanos).scaleb(-9)
    with localcontext(prec=_PREC):
        remaining = max(cap - used, Decimal(0))
        percent = None if cap == 0 else exact((used * 100 / cap).quantize(Decimal("1e-9")))
    hit = [to_number(t) for t in reached(limit, usage)]
    return Standing(exact(used), exact(remaining), used < cap, percent, hit)
