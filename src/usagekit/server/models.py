"""Request and reply bodies of the native API (they are also the OpenAPI schema)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from usagekit.core import params
from usagekit.core.errors import ParamError


def _clean(value: str) -> str:
    try:
        return params.text(value, "", max_len=len(value))
    except ParamError:
        raise ValueError("contains a NUL character or a lone surrogate") from None


# A string field of a request body: no NUL (PostgreSQL text refuses it), no lone surrogate.
Text = Annotated[str, AfterValidator(_clean)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HealthOut(BaseModel):
    status: Literal["ok"]
    version: str
    backend: Literal["sqlite", "postgresql"]


class HealthDown(BaseModel):
    status: Literal["unavailable"]
    error: str = Field(description="the kind of failure of the database round trip")


class ErrorDetail(BaseModel):
    code: str = Field(description="invalid_request, unauthorized, forbidden, not_found, ...")
    message: str = Field(description="what went wrong, for a person")
    param: str | None = Field(description="the parameter (or body field) to blame, if one is")


class Error(BaseModel):
    """Every error reply of the native API (server.errors)."""

    error: ErrorDetail


class EventIn(BaseModel):
    """One usage event (CloudEvents field names); documented here, judged in core.events."""

    id: str = Field(min_length=1, max_length=256)
    source: str = Field("default", min_length=1, max_length=256)
    type: str = Field(min_length=1, max_length=256)
    subject: str = Field(min_length=1, max_length=256)
    time: str | int = Field(description="RFC 3339 with offset, or Unix milliseconds")
    data: dict[str, object] = Field(default_factory=dict)


class EventBatch(BaseModel):
    """Events wrapped in an object (the other body forms: an array of them, or one event)."""

    events: list[EventIn]


class TenantIn(Strict):
    name: Text = Field(min_length=1, max_length=128)


class TenantOut(BaseModel):
    id: int
    name: str
    created: str


class KeyIn(Strict):
    tenant: Text | None = Field(None, description="tenant name; defaults to the caller's")
    role: Literal["admin", "ingest", "read"]
    subject: Text | None = Field(None, min_length=1, max_length=256)
    name: Text | None = Field(None, max_length=128)


class KeyOut(BaseModel):
    id: str
    tenant: str
    role: str
    subject: str | None
    name: str | None
    prefix: str
    created: str
    revoked: str | None = None


class NewKeyOut(KeyOut):
    key: str = Field(description="the secret; shown only once")


class MeterIn(Strict):
    slug: Text
    event_type: Text
    aggregation: Literal["sum", "count", "unique_count", "min", "max", "avg", "latest"]
    value_property: Text | None = None
    dimensions: dict[Text, Text] = Field(default_factory=dict)
    unit: Text | None = Field(None, max_length=64)
    description: Text | None = Field(None, max_length=2000)


class MeterOut(BaseModel):
    slug: str
    event_type: str
    aggregation: str
    value_property: str | None
    dimensions: dict[str, str]
    unit: str | None
    description: str | None
    profile: str | None = Field(
        None, description="the seed profile whose preset this is; presets cannot be deleted"
    )


class VoidIn(Strict):
    ids: list[Text] = Field(min_length=1, max_length=10_000)
    source: Text = "default"


class AlreadyVoided(BaseModel):
    id: str
    voided_at: str = Field(description="when it was voided (RFC 3339, UTC)")


class VoidOut(BaseModel):
    voided: list[str] = Field(description="ids voided by this request")
    already_voided: list[AlreadyVoided] = Field(
        description="ids voided before, with their time: nothing changed for them"
    )
    not_found: list[str] = Field(description="ids with no event of this source")


class Rejection(BaseModel):
    index: int
    id: str | int | None
    error: str


class IngestOut(BaseModel):
    accepted: int
    duplicates: int
    conflicts: int
    rejected: list[Rejection]
    conflicting: list[Rejection]
    failures_not_kept: int = Field(
        0, description="rejected or conflicting records past the 1,000 kept as failures"
    )


class EventOut(BaseModel):
    id: str
    source: str
    type: str
    subject: str
    time: str
    data: dict[str, object]
    received: str
    voided: bool
    voided_at: str | None


class EventPage(BaseModel):
    data: list[EventOut]
    next_cursor: str | None


class PointOut(BaseModel):
    start: str
    end: str
    group: dict[str, str | None]
    value: int | float | None


class QueryOut(BaseModel):
    meter: str
    granularity: str
    tz: str
    aggregation_type: str
    from_: str = Field(alias="from")
    to: str
    data: list[PointOut]


class SummaryRow(BaseModel):
    meter: str
    unit: str | None
    group: dict[str, str | None]
    value: int | float | None


class SummaryOut(BaseModel):
    from_: str = Field(alias="from")
    to: str
    data: list[SummaryRow]


class FailureOut(BaseModel):
    id: int
    received: str
    channel: str
    error: str
    record: object


class FailurePage(BaseModel):
    data: list[FailureOut]
    next_cursor: str | None


class RetryOut(BaseModel):
    cleared: bool
    result: IngestOut


# An exact number as the body sends it: a JSON number, or a string for more digits than
# a float keeps. Checked in core.limits (the error names the field).
ExactIn = Annotated[
    Any,
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string"}]}),
]
Period = Literal["day", "week", "month", "rolling_7d", "rolling_30d"]


class LimitIn(Strict):
    slug: Text
    meter: Text
    period: Period
    tz: Text = Field("UTC", description="IANA time zone of the period's edges")
    limit: ExactIn = Field(description="the value usage is held against (>= 0)")
    thresholds: list[ExactIn] | None = Field(
        None, description="percents of the limit, ascending (default [100])"
    )
    scope: Literal["subject", "tenant"] = "subject"
    filter: dict[Text, list[Text]] | None = Field(
        None, description="{dimension: [values]}: only usage with these values counts"
    )
    description: Text | None = Field(None, max_length=2000)


class LimitPatch(Strict):
    """The fields to change; the others stay."""

    period: Period | None = None
    tz: Text | None = None
    limit: ExactIn = None
    thresholds: list[ExactIn] | None = None
    scope: Literal["subject", "tenant"] | None = None
    filter: dict[Text, list[Text]] | None = None
    description: Text | None = Field(None, max_length=2000)


class LimitOut(BaseModel):
    slug: str
    meter: str
    period: str
    tz: str
    limit: int | float
    thresholds: list[int | float]
    scope: str
    filter: dict[str, list[str]]
    description: str | None
    created: str
    updated: str


class LimitStatusOut(BaseModel):
    slug: str = Field(description="the limit")
    scope: str
    subject: str | None = Field(description="null for a tenant-wide limit")
    usage: int | float = Field(description="the meter's value over the period (0 if none)")
    limit: int | float
    remaining: int | float = Field(description="limit - usage, not below 0")
    has_access: bool = Field(description="usage < limit")
    percent: int | float | None = Field(
        description="usage / limit x 100, rounded to 9 places; null for a limit of 0"
    )
    period_start: str
    period_end: str
    thresholds_reached: list[int | float] = Field(
        description="thresholds with usage >= limit x threshold / 100"
    )


class LimitSubjectOut(BaseModel):
    subject: str | None = Field(description="null for a tenant-wide limit (the tenant)")
    usage: int | float = Field(description="the meter's value over the period")
    remaining: int | float = Field(description="limit - usage, not below 0")
    has_access: bool = Field(description="usage < limit")
    percent: int | float | None = Field(
        description="usage / limit x 100, rounded to 9 places; null for a limit of 0"
    )


class LimitSubjectsOut(BaseModel):
    period_start: str
    period_end: str
    limit: int | float
    data: list[LimitSubjectOut] = Field(description="usage descending (ties by subject)")
