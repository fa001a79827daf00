"""Typed results of the native API, built from its JSON replies."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from pathlib import Path
from typing import IO, Any

# Totals are exact at any size: an int, a float where it is exact, else a Decimal.
Number = int | float | Decimal


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _maybe_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(slots=True)
class Event:
    """A usage event, to send or as stored (`received`, `voided` come back from the server)."""

    id: str
    type: str
    subject: str
    time: datetime | str | int
    data: dict[str, Any] = field(default_factory=dict)
    source: str = "default"
    received: datetime | None = None
    voided: bool = False
    voided_at: datetime | None = None

    def as_record(self) -> dict[str, Any]:
        """The wire record (naive datetimes are taken as UTC)."""
        when = self.time
        if isinstance(when, datetime) and when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return {
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": when,
            "data": self.data,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Event:
        return cls(
            id=d["id"],
            type=d["type"],
            subject=d["subject"],
            time=_time(d["time"]),
            data=d.get("data") or {},
            source=d.get("source", "default"),
            received=_maybe_time(d.get("received")),
            voided=bool(d.get("voided")),
            voided_at=_maybe_time(d.get("voided_at")),
        )


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record the server (or the SDK, for an oversized one) refused, by the caller's index."""

    index: int
    id: str | int | None
    error: str
    record: Any = None  # what the caller passed, kept so it can be fixed and re-sent


@dataclass(slots=True)
class SendResult:
    """The combined outcome of one `send`, however many requests it took."""

    accepted: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    conflicting: list[Rejection] = field(default_factory=list)
    failures_not_kept: int = 0  # refused records past the server's cap on failure rows
    requests: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing was rejected and nothing conflicted."""
        return not self.rejected and not self.conflicts

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> SendResult:
        result = cls()
        result.merge(d)
        return result

    def merge(
        self,
        d: Mapping[str, Any],
        indexes: list[int] | None = None,
        records: list[Any] | None = None,
    ) -> None:
        """Add one reply, its indexes mapped through `indexes` into the caller's numbering."""

        def shifted(items: list[dict[str, Any]]) -> list[Rejection]:
            return [
                Rejection(
                    indexes[r["index"]] if indexes is not None else r["index"],
                    r.get("id"),
                    r["error"],
                    records[r["index"]] if records is not None else None,
                )
                for r in items
            ]

        self.accepted += d["accepted"]
        self.duplicates += d["duplicates"]
        self.conflicts += d["conflicts"]
        self.rejected += shifted(d.get("rejected", []))
        self.conflicting += shifted(d.get("conflicting", []))
        self.failures_not_kept += d.get("failures_not_kept", 0)
        self.requests += 1


@dataclass(frozen=True, slots=True)
class Meter:
    slug: str
    event_type: str
    aggregation: str
    value_property: str | None = None
    dimensions: dict[str, str] = field(default_factory=dict)
    unit: str | None = None
    description: str | None = None
    profile: str | None = None  # set on a seed profile's preset meter

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Meter:
        return cls(
            slug=d["slug"],
            event_type=d["event_type"],
            aggregation=d["aggregation"],
            value_property=d.get("value_property"),
            dimensions=dict(d.get("dimensions") or {}),
            unit=d.get("unit"),
            description=d.get("description"),
            profile=d.get("profile"),
        )


@dataclass(frozen=True, slots=True)
class UsagePoint:
    """One bucket (and group) of a query: [start, end) in the query's time zone."""

    start: datetime
    end: datetime
    group: dict[str, str | None]
    value: Number | None


def _write_csv(rows: list[dict[str, Any]], columns: list[str], dest: str | Path | IO[str]) -> None:
    if isinstance(dest, str | Path):
        with open(dest, "w", newline="", encoding="utf-8") as fh:
            _write_csv(rows, columns, fh)
        return
    writer = csv.DictWriter(dest, columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}
        )


@dataclass(frozen=True, slots=True)
class QueryResult:
    meter: str
    granularity: str
    tz: str
    aggregation_type: str
    start: datetime
    end: datetime
    data: list[UsagePoint]

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> QueryResult:
        return cls(
            meter=d["meter"],
            granularity=d["granularity"],
            tz=d["tz"],
            aggregation_type=d["aggregation_type"],
            start=_time(d["from"]),
            end=_time(d["to"]),
            data=[
                UsagePoint(_time(p["start"]), _time(p["end"]), p["group"], p["value"])
                for p in d["data"]
            ],
        )

    @property
    def group_names(self) -> list[str]:
        names: dict[str, None] = {}
        for p in self.data:
            names.update(dict.fromkeys(p.group))
        return list(names)

    def rows(self) -> list[dict[str, Any]]:
        """Flat rows (start, end, one column per group, value): `pandas.DataFrame(q.rows())`."""
        return [{"start": p.start, "end": p.end, **p.group, "value": p.value} for p in self.data]

    def to_csv(self, dest: str | Path | IO[str] | None = None) -> str | None:
        """Write the rows as CSV to a path or text file; with no destination, return the text."""
        columns = ["start", "end", *self.group_names, "value"]
        if dest is None:
            buf = io.StringIO()
            _write_csv(self.rows(), columns, buf)
            return buf.getvalue()
        _write_csv(self.rows(), columns, dest)
        return None

    def __iter__(self) -> Iterator[UsagePoint]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class SummaryRow:
    meter: str
    unit: str | None
    group: dict[str, str | None]
    value: Number | None


@dataclass(frozen=True, slots=True)
class Summary:
    start: datetime
    end: datetime
    data: list[SummaryRow]

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Summary:
        return cls(
            start=_time(d["from"]),
            end=_time(d["to"]),
            data=[SummaryRow(r["meter"], r.get("unit"), r["group"], r["value"]) for r in d["data"]],
        )

    def total(self, meter: str) -> Number | None:
        """The meter's value summed over its groups (None when the meter has no row)."""
        values = [r.value for r in self.data if r.meter == meter and r.value is not None]
        if not values:
            return None
        if any(isinstance(v, Decimal) for v in values):  # a float would not add to it
            with localcontext(prec=1000):  # exact: the default rounds at 28 digits
                return sum(
                    (Decimal(repr(v)) if isinstance(v, float) else v for v in values), Decimal()
                )
        return sum(values)

    def rows(self) -> list[dict[str, Any]]:
        return [{"meter": r.meter, **r.group, "value": r.value, "unit": r.unit} for r in self.data]


@dataclass(frozen=True, slots=True)
class VoidResult:
    """Ids voided now; ids voided before, with their time (voiding is idempotent); unknown ids."""

    voided: list[str]
    not_found: list[str]
    already_voided: dict[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Failure:
    """A rejected or unprocessable record, verbatim, with the reason."""

    id: int
    received: datetime
    channel: str
    error: str
    record: Any

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Failure:
        return cls(d["id"], _time(d["received"]), d["channel"], d["error"], d["record"])


@dataclass(frozen=True, slots=True)
class RetryResult:
    cleared: bool
    result: SendResult


@dataclass(frozen=True, slots=True)
class Tenant:
    id: int
    name: str
    created: datetime

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Tenant:
        return cls(d["id"], d["name"], _time(d["created"]))


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    tenant: str
    role: str
    subject: str | None
    name: str | None
    prefix: str
    created: datetime
    revoked: datetime | None = None
    key: str | None = None  # the secret: only on the reply that created it

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ApiKey:
        return cls(
            id=d["id"],
            tenant=d["tenant"],
            role=d["role"],
            subject=d.get("subject"),
            name=d.get("name"),
            prefix=d["prefix"],
            created=_time(d["created"]),
            revoked=_maybe_time(d.get("revoked")),
            key=d.get("key"),
        )
