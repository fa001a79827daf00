"""Limits in the SDK: their result classes and their operations, once for both clients.

Numbers come back exact (`Number`: an int, a float where exact, else a Decimal); a
limit value may be sent as a Decimal or a string for more digits than a float keeps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from usagekit.client.base import BaseClient, Call, Instant, Op, instant
from usagekit.client.models import Number
from usagekit.client.ops import _json, _load, _seg

Amount = int | float | Decimal | str  # what a limit or threshold may be sent as


@dataclass(frozen=True, slots=True)
class Limit:
    slug: str
    meter: str
    period: str
    tz: str
    limit: Number
    thresholds: list[Number]
    scope: str
    filter: dict[str, list[str]] = field(default_factory=dict)
    description: str | None = None
    created: datetime | None = None
    updated: datetime | None = None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Limit:
        return cls(
            slug=d["slug"],
            meter=d["meter"],
            period=d["period"],
            tz=d["tz"],
            limit=d["limit"],
            thresholds=list(d["thresholds"]),
            scope=d["scope"],
            filter={k: list(v) for k, v in d["filter"].items()},
            description=d.get("description"),
            created=datetime.fromisoformat(d["created"]),
            updated=datetime.fromisoformat(d["updated"]),
        )


@dataclass(frozen=True, slots=True)
class LimitStatus:
    """Usage against a limit in one period, for a subject (None: a tenant-wide limit)."""

    slug: str
    scope: str
    subject: str | None
    usage: Number
    limit: Number
    remaining: Number
    has_access: bool
    percent: Number | None
    period_start: datetime
    period_end: datetime
    thresholds_reached: list[Number]

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> LimitStatus:
        return cls(
            slug=d["slug"],
            scope=d["scope"],
            subject=d["subject"],
            usage=d["usage"],
            limit=d["limit"],
            remaining=d["remaining"],
            has_access=d["has_access"],
            percent=d["percent"],
            period_start=datetime.fromisoformat(d["period_start"]),
            period_end=datetime.fromisoformat(d["period_end"]),
            thresholds_reached=list(d["thresholds_reached"]),
        )


@dataclass(frozen=True, slots=True)
class LimitSubject:
    """One subject's standing against a limit (subject None: the tenant's)."""

    subject: str | None
    usage: Number
    remaining: Number
    has_access: bool
    percent: Number | None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> LimitSubject:
        return cls(
            subject=d["subject"],
            usage=d["usage"],
            remaining=d["remaining"],
            has_access=d["has_access"],
            percent=d["percent"],
        )


@dataclass(frozen=True, slots=True)
class LimitSubjects:
    """The subjects closest to a limit in one period, usage descending."""

    period_start: datetime
    period_end: datetime
    limit: Number
    data: list[LimitSubject]

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> LimitSubjects:
        return cls(
            period_start=datetime.fromisoformat(d["period_start"]),
            period_end=datetime.fromisoformat(d["period_end"]),
            limit=d["limit"],
            data=[LimitSubject.from_json(x) for x in d["data"]],
        )


def _amount(value: Amount) -> Any:
    """A Decimal goes as its text: the server reads numeric strings exactly."""
    return str(value) if isinstance(value, Decimal) else value


def limits(client: BaseClient) -> Op[list[Limit]]:
    reply = yield Call("GET", "/v1/limits")
    return [Limit.from_json(x) for x in _load(reply)]


def create_limit(
    client: BaseClient,
    slug: str,
    meter: str,
    period: str,
    limit: Amount,
    *,
    tz: str = "UTC",
    thresholds: Sequence[Amount] | None = None,
    scope: str = "subject",
    filter: Mapping[str, Sequence[str]] | None = None,
    description: str | None = None,
) -> Op[Limit]:
    """Define a limit: `limit` per `period` (day, week, month, rolling_7d, rolling_30d)."""
    body: dict[str, Any] = {
        "slug": slug,
        "meter": meter,
        "period": period,
        "tz": tz,
        "limit": _amount(limit),
        "scope": scope,
        "description": description,
    }
    if thresholds is not None:
        body["thresholds"] = [_amount(t) for t in thresholds]
    if filter is not None:
        body["filter"] = {k: list(v) for k, v in filter.items()}
    reply = yield Call("POST", "/v1/limits", body=_json(body), idempotent=False)
    return Limit.from_json(_load(reply))


def get_limit(client: BaseClient, slug: str) -> Op[Limit]:
    reply = yield Call("GET", f"/v1/limits/{_seg(slug)}")
    return Limit.from_json(_load(reply))


def update_limit(
    client: BaseClient,
    slug: str,
    *,
    period: str | None = None,
    tz: str | None = None,
    limit: Amount | None = None,
    thresholds: Sequence[Amount] | None = None,
    scope: str | None = None,
    filter: Mapping[str, Sequence[str]] | None = None,
    description: str | None = None,
    clear_description: bool = False,
) -> Op[Limit]:
    """Change the fields given (None: unchanged); `clear_description` removes it."""
    body: dict[str, Any] = {"period": period, "tz": tz, "scope": scope}
    body = {k: v for k, v in body.items() if v is not None}
    if limit is not None:
        body["limit"] = _amount(limit)
    if thresholds is not None:
        body["thresholds"] = [_amount(t) for t in thresholds]
    if filter is not None:
        body["filter"] = {k: list(v) for k, v in filter.items()}
    if description is not None or clear_description:
        body["description"] = description
    reply = yield Call("PATCH", f"/v1/limits/{_seg(slug)}", body=_json(body))
    return Limit.from_json(_load(reply))


def delete_limit(client: BaseClient, slug: str) -> Op[None]:
    yield Call("DELETE", f"/v1/limits/{_seg(slug)}")


def _at(at: Instant | None, tz: str) -> list[tuple[str, str]]:
    text = instant(at, tz)
    return [("at", text)] if text is not None else []


def limit_status(
    client: BaseClient, slug: str, subject: str | None = None, at: Instant | None = None
) -> Op[LimitStatus]:
    """The limit's status in the period holding `at` (default now); a per-subject limit
    needs `subject`, a tenant-wide one takes none. A naive `at` is UTC."""
    params = _at(at, "UTC") + ([("subject", subject)] if subject is not None else [])
    reply = yield Call("GET", f"/v1/limits/{_seg(slug)}/status", params=params)
    return LimitStatus.from_json(_load(reply))


def subject_limits(
    client: BaseClient, subject: str, at: Instant | None = None
) -> Op[list[LimitStatus]]:
    """Every per-subject limit's status for `subject`, then the tenant-wide ones."""
    reply = yield Call("GET", f"/v1/subjects/{_seg(subject)}/limits", params=_at(at, "UTC"))
    return [LimitStatus.from_json(x) for x in _load(reply)]


def limit_subjects(
    client: BaseClient, slug: str, at: Instant | None = None, limit: int | None = None
) -> Op[LimitSubjects]:
    """The subjects closest to the limit in the period holding `at` (default now), usage
    descending, at most `limit` (server default 20, at most 500); a tenant-wide limit
    gives one row with subject None. Needs a key not bound to a subject."""
    params = _at(at, "UTC") + ([("limit", str(limit))] if limit is not None else [])
    reply = yield Call("GET", f"/v1/limits/{_seg(slug)}/subjects", params=params)
    return LimitSubjects.from_json(_load(reply))
