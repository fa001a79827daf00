"""AMIE usage (ACCESS/XSEDE): Compute, Storage and Adjustment records as events.

Pure translation: one AMIE record -> one native event (or InvalidRecord naming
the problem), the signed charge the preset meters sum, and the registry names a
record mentions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from usagekit.core import jsondata
from usagekit.core.clock import END_OF_TIME
from usagekit.core.events import MAX_ID_LEN, Event, InvalidRecord, _datetime_ms
from usagekit.core.meters import Aggregation, Meter
from usagekit.core.numbers import NotANumber, to_nanos, to_number

USAGE_TYPES = ("Compute", "Storage", "Adjustment")
EVENT_TYPES = {kind: f"amie.{kind.lower()}" for kind in USAGE_TYPES}
USAGE_TYPE_OF = {v: k for k, v in EVENT_TYPES.items()}
SOURCE_PREFIX = "amie:"
CHANNEL = "amie"  # records that failed processing (listed by usage/failed)
INVALID_CHANNEL = "amie-invalid"  # records that failed validation (kept, in the reply)
CONFLICT_CHANNEL = "amie-conflict"  # a LocalRecordID re-sent with different content
SIGNED = "SignedCharge"
NEGATIVE_ADJUSTMENTS = frozenset({"credit", "refund", "storage-credit"})
POSITIVE_ADJUSTMENTS = frozenset({"debit", "reservation", "storage-debit"})
ADJUSTMENT_TYPES = tuple(sorted(NEGATIVE_ADJUSTMENTS | POSITIVE_ADJUSTMENTS))
REGISTRY_KINDS = ("project", "resource", "user")
# registry kind -> the record field that names it
REGISTRY_FIELDS = {"project": "LocalProjectID", "resource": "Resource", "user": "Username"}
TIME_FIELD = {"Compute": "EndTime", "Storage": "CollectionTime", "Adjustment": "StartTime"}
_NAMES = ("Username", "LocalProjectID", "LocalRecordID", "Resource")
_TIMES = {
    "Compute": ("SubmitTime", "StartTime", "EndTime"),
    "Storage": ("CollectionTime",),
    "Adjustment": ("StartTime",),
}
_DIMS = {"project": "LocalProjectID", "resource": "Resource"}

PRESETS: tuple[Meter, ...] = tuple(
    Meter(
        f"amie.{kind.lower()}_charge",
        EVENT_TYPES[kind],
        Aggregation.SUM,
        SIGNED,
        _DIMS,
        unit="SU",
        description=f"AMIE {kind} charges (allocation units, credits negative), "
        "per project and resource",
    )
    for kind in USAGE_TYPES
)
METER_OF = {kind: f"amie.{kind.lower()}_charge" for kind in USAGE_TYPES}


def usage_type(value: object) -> str:
    """The message's UsageType, case as AMIE spells it; InvalidRecord when unknown."""
    if isinstance(value, str):
        for kind in USAGE_TYPES:
            if value.lower() == kind.lower():
                return kind
    allowed = ", ".join(USAGE_TYPES)
    if value is None:
        raise InvalidRecord(f"UsageType is required: one of {allowed}")
    raise InvalidRecord(f"UsageType {str(value)[:40]!r} is not one of {allowed}")


def parse_amie_time(value: object, field: str) -> int:
    """ISO 8601 (offset optional: without one it is UTC) -> Unix ms."""
    if not isinstance(value, str) or not value.strip():
        got = "missing" if value is None else f"not a string ({type(value).__name__})"
        raise InvalidRecord(f"{field}: {got}; expected ISO 8601 such as 2026-11-02T10:15:00Z")
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidRecord(
            f"{field}: {value[:40]!r} is not ISO 8601 (e.g. 2026-11-02T10:15:00Z)"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    ms = _datetime_ms(dt)
    if not 0 <= ms < END_OF_TIME:
        raise InvalidRecord(f"{field}: {value[:40]!r} is out of range (1970 to 9999)")
    return ms


def _name(record: dict[str, Any], field: str, limit: int = MAX_ID_LEN) -> str:
    value = record.get(field)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        got = "missing" if value is None else "empty or not a string"
        raise InvalidRecord(f"{field}: {got}")
    if len(value) > limit:
        raise InvalidRecord(f"{field}: longer than {limit} characters")
    return value


def charge_of(record: dict[str, Any]) -> int | float:
    """Charge as a number (AMIE sends it as a string or a number); never negative."""
    raw = record.get("Charge")
    if raw is None:
        raise InvalidRecord("Charge: missing")
    try:
        nanos = to_nanos(raw)
    except NotANumber as exc:
        raise InvalidRecord(f"Charge: {exc}") from None
    if nanos < 0:
        raise InvalidRecord("Charge: must not be negative (AdjustmentType gives the sign)")
    charge = to_number(nanos)
    if isinstance(charge, Decimal):
        raise InvalidRecord(f"Charge: {str(raw)[:40]} has more digits than can be kept exactly")
    return charge


def _parent(value: object) -> object:
    # amieclient 0.4.0 sends ParentRecordID as a one-element list ([null] when unset).
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def _node_count(attributes: object) -> None:
    if not isinstance(attributes, dict):
        raise InvalidRecord("Attributes: missing; Compute records need Attributes.NodeCount")
    count = attributes.get("NodeCount")
    try:
        ok = count is not None and not isinstance(count, bool) and int(str(count)) >= 0
    except ValueError:
        ok = False
    if not ok:
        raise InvalidRecord("Attributes.NodeCount: required, a whole number of nodes")


def translate(kind: str, record: object) -> Event:
    """One AMIE record of usage type `kind` as a native event; InvalidRecord if malformed."""
    if not isinstance(record, dict):
        raise InvalidRecord("record: expected an object")
    own = record.get("UsageType")
    if own is not None and own != kind:
        raise InvalidRecord(
            f"UsageType {str(own)[:40]!r} in a {kind} message; send one usage type per message"
        )
    names = {f: _name(record, f) for f in _NAMES}
    _name(record, "Resource", MAX_ID_LEN - len(SOURCE_PREFIX))
    times = {f: parse_amie_time(record.get(f), f) for f in _TIMES[kind]}
    if kind == "Compute":
        if times["EndTime"] < times["StartTime"]:
            raise InvalidRecord("EndTime: before StartTime")
        _node_count(record.get("Attributes"))
    charge = charge_of(record)
    signed: int | float = charge
    if kind == "Adjustment":
        adjustment = record.get("AdjustmentType")
        key = adjustment.lower() if isinstance(adjustment, str) else None
        if key not in NEGATIVE_ADJUSTMENTS | POSITIVE_ADJUSTMENTS:
            raise InvalidRecord(f"AdjustmentType: must be one of {', '.join(ADJUSTMENT_TYPES)}")
        if key in NEGATIVE_ADJUSTMENTS:
            signed = -charge
    data = canonical(record)
    data["Charge"] = charge
    data[SIGNED] = signed
    try:
        data_json = jsondata.canonical(data)
    except jsondata.DataError as exc:
        raise InvalidRecord(str(exc).replace("data", "record", 1)) from None
    return Event(
        names["LocalRecordID"],
        SOURCE_PREFIX + names["Resource"],
        EVENT_TYPES[kind],
        names["Username"],
        times[TIME_FIELD[kind]],
        data,
        data_json,
    )


def canonical(record: dict[str, Any]) -> dict[str, Any]:
    """The record's fields as stored: nulls dropped, ParentRecordID unwrapped.

    The same record sent by any client gives the same data, so a re-send is a
    duplicate rather than a conflict.
    """
    out: dict[str, Any] = {}
    for field, value in record.items():
        if field in ("UsageType", SIGNED):
            continue
        if field == "ParentRecordID":
            value = _parent(value)
        if field == "Attributes" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if v is not None}
        if value is not None:
            out[field] = value
    return out


def names_in(event: Event) -> dict[str, str]:
    """registry kind -> the name this event's record gives for it."""
    return {kind: str(event.data.get(field)) for kind, field in REGISTRY_FIELDS.items()}


def unknown_error(missing: list[tuple[str, str]]) -> str:
    """The processing error for a record naming names outside the registry."""
    parts = [
        f"{REGISTRY_FIELDS[kind]} {name!r} is not a registered {kind}" for kind, name in missing
    ]
    return "; ".join(parts)


def as_record(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """A stored event's data back as the AMIE record (with its UsageType)."""
    record = {k: v for k, v in data.items() if k != SIGNED}
    record["UsageType"] = kind
    return record


def ref(event: Event) -> str:
    """The key of a record in the failure list: a re-send replaces, never repeats."""
    return f"{event.source}\n{event.id}"
