"""Meters: which events count, how they aggregate, and by which dimensions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson

from usagekit.core.errors import ParamError
from usagekit.core.events import Event
from usagekit.core.numbers import NANO, NotANumber, to_nanos

SLUG = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,63}$")
DIMENSION = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")
MAX_DIMENSIONS = 16


class Aggregation(StrEnum):
    SUM = "sum"
    COUNT = "count"
    UNIQUE_COUNT = "unique_count"
    MIN = "min"
    MAX = "max"
    AVG = "avg"
    LATEST = "latest"


class InvalidMeter(ParamError):
    """A meter definition that cannot work; `param` names the field."""


def _path(spec: str) -> tuple[str, ...]:
    return tuple(spec.split("."))


def lookup(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    """Follow a dotted path into nested objects; None when any step is missing."""
    node: Any = data
    for step in path:
        if not isinstance(node, dict):
            return None
        node = node.get(step)
        if node is None:
            return None
    return node


def dimension_text(value: Any) -> str | None:
    """A dimension value as the string used for grouping and filtering."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


@dataclass(frozen=True, slots=True)
class Meter:
    """A meter definition; `id` and `tenant_id` are assigned by the store."""

    slug: str
    event_type: str
    aggregation: Aggregation
    value_property: str | None = None
    dimensions: dict[str, str] = field(default_factory=dict)
    unit: str | None = None
    description: str | None = None
    id: int = 0
    tenant_id: int = 0
    _value_path: tuple[str, ...] = field(default=(), repr=False, compare=False)
    _dim_paths: tuple[tuple[str, ...], ...] = field(default=(), repr=False, compare=False)
    _dim_keys: tuple[str, ...] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_value_path", _path(self.value_property or ""))
        names = self.dimension_names
        paths = tuple(_path(self.dimensions[n]) for n in names)
        object.__setattr__(self, "_dim_paths", paths)
        if all(len(p) == 1 for p in paths):  # top-level keys: read with one map()
            object.__setattr__(self, "_dim_keys", tuple(p[0] for p in paths))

    @property
    def value_key(self) -> str | None:
        """The value property when it is a top-level key of `data` (the fast path)."""
        path = self._value_path
        return path[0] if len(path) == 1 and path[0] else None

    @property
    def dimension_names(self) -> tuple[str, ...]:
        """Dimension names in their canonical (sorted) order; `subject` is implicit."""
        return tuple(sorted(self.dimensions))

    def dimension_tuple(self, event: Event) -> tuple[str | None, ...]:
        """This event's dimension values in dimension_names order (texts, or None)."""
        data = event.data
        keys = self._dim_keys
        if keys is not None:
            values = tuple(map(data.get, keys))
        else:
            values = tuple(lookup(data, path) for path in self._dim_paths)
        for value in values:
            if value is not None and type(value) is not str:
                return tuple(map(dimension_text, values))
        return values

    def numeric(self, event: Event) -> tuple[int, float] | None:
        """(nano-units, float) of the value property, or None when missing or not numeric."""
        raw = self.raw_value(event)
        if type(raw) is int and -(2**62) < raw < 2**62:
            return raw * NANO, float(raw)
        if raw is None:
            return None
        try:
            nanos = to_nanos(raw)
        except NotANumber:
            return None
        return nanos, (float(raw) if isinstance(raw, int | float) else nanos / 1e9)

    def nanos(self, event: Event) -> int | None:
        """Nano-units of the value property (what sums need), or None when not numeric."""
        raw = self.raw_value(event)
        if type(raw) is int and -(2**62) < raw < 2**62:
            return raw * NANO
        if raw is None:
            return None
        try:
            return to_nanos(raw)
        except NotANumber:
            return None

    def raw_value(self, event: Event) -> Any:
        """The value property of an event, as sent (None when missing)."""
        path = self._value_path
        return event.data.get(path[0]) if len(path) == 1 else lookup(event.data, path)

    def distinct_value(self, event: Event) -> str | None:
        """The value counted by unique_count: the property's value, or the subject."""
        if not self.value_property:
            return event.subject
        return dimension_text(lookup(event.data, self._value_path))

    def as_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "event_type": self.event_type,
            "aggregation": self.aggregation.value,
            "value_property": self.value_property,
            "dimensions": dict(self.dimensions),
            "unit": self.unit,
            "description": self.description,
        }


def validate_meter(
    slug: str,
    event_type: str,
    aggregation: str,
    value_property: str | None,
    dimensions: dict[str, str] | None,
    unit: str | None = None,
    description: str | None = None,
) -> Meter:
    """Build a Meter from user input, or raise InvalidMeter naming the field to fix."""
    if not SLUG.match(slug):
        raise InvalidMeter(
            "slug: use 1-64 lowercase letters, digits, '_', '-' or '.', "
            "starting with a letter or digit",
            "slug",
        )
    if not event_type or len(event_type) > 256:
        raise InvalidMeter("event_type: required, at most 256 characters", "event_type")
    try:
        agg = Aggregation(aggregation)
    except ValueError:
        allowed = ", ".join(a.value for a in Aggregation)
        raise InvalidMeter(
            f"aggregation: {aggregation!r} is not one of {allowed}", "aggregation"
        ) from None
    if agg not in (Aggregation.COUNT, Aggregation.UNIQUE_COUNT) and not value_property:
        raise InvalidMeter(
            f"value_property: required for aggregation {agg.value}", "value_property"
        )
    if agg is Aggregation.COUNT:
        value_property = None
    if value_property is not None and not _valid_path(value_property):
        raise InvalidMeter("value_property: a dotted path such as usage.tokens", "value_property")
    dims = dict(dimensions or {})
    if len(dims) > MAX_DIMENSIONS:
        raise InvalidMeter(f"dimensions: at most {MAX_DIMENSIONS}", "dimensions")
    for name, path in dims.items():
        if name == "subject" or not DIMENSION.match(name):
            raise InvalidMeter(
                f"dimensions: {name!r} is not a usable name "
                "(letters, digits, '_'; 'subject' is built in)",
                "dimensions",
            )
        if not isinstance(path, str) or not _valid_path(path):
            raise InvalidMeter(
                f"dimensions: path for {name!r} must be a dotted path into data", "dimensions"
            )
    return Meter(slug, event_type, agg, value_property, dims, unit, description)


def _valid_path(path: str) -> bool:
    return bool(path) and len(path) <= 256 and all(path.split("."))
