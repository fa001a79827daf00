"""Every native API operation, once, as a generator of `Call`s (see client.base).

`Client` runs these by blocking and `AsyncClient` by awaiting; the generator
builds each request and turns the replies into typed results.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import orjson

from usagekit.client import batching
from usagekit.client.base import BaseClient, Call, Instant, Op, instant
from usagekit.client.models import (
    ApiKey,
    Event,
    Meter,
    QueryResult,
    Rejection,
    RetryResult,
    SendResult,
    Summary,
    Tenant,
    VoidResult,
)
from usagekit.errors import ValidationError

# A number of 17 or more digits (and dots), which a float may not hold exactly.
_LONG_NUMBER = re.compile(rb"[0-9][0-9.]{16,}")
VOID_CHUNK = 10_000  # the server takes at most this many ids per void request


def _json(value: Any) -> bytes:
    return orjson.dumps(value)


def _load(reply: Any) -> Any:
    content = reply.content
    if _LONG_NUMBER.search(content):  # orjson would round it: a total of many digits
        return json.loads(content, parse_float=_exact_float)
    return orjson.loads(content)


def _exact_float(text: str) -> float | Decimal:
    """A JSON number as a float when that is its exact value, else as a Decimal."""
    value = float(text)
    return value if Decimal(repr(value)) == Decimal(text) else Decimal(text)


def _seg(value: str) -> str:
    return quote(value, safe="")


def send(
    client: BaseClient,
    events: Iterable[Event | Mapping[str, Any]],
    *,
    max_body_bytes: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Op[SendResult]:
    """Send any number of events, chunked under the body limit; one combined result.

    Indexes in `rejected` and `conflicting` are positions in `events`. Re-sending is
    safe: the server keeps each (source, id) once. `on_progress` gets the number of
    records handled as each chunk is committed (refused ones included).
    """
    result = SendResult()
    budget = batching.Budget(max_body_bytes or client.max_body_bytes)
    for chunk in batching.chunks(events, result, budget):
        if chunk.parts:
            yield from _post(chunk, result, budget)
        if on_progress is not None:
            on_progress(chunk.consumed)
    result.rejected.sort(key=lambda r: r.index)
    return result


def _post(chunk: batching.Chunk, result: SendResult, budget: batching.Budget) -> Op[None]:
    """POST one chunk; on 413 (a server with a lower limit) halve it, and later chunks too."""
    try:
        reply = yield Call("POST", "/v1/events", body=chunk.body)
    except ValidationError as exc:
        if exc.status != 413:
            raise
        if len(chunk.parts) == 1:
            error = f"the server refused the record as too large: {exc.message}"
            result.rejected.append(Rejection(chunk.indexes[0], None, error, chunk.records[0]))
            return
        budget.max_bytes = min(budget.max_bytes, len(chunk.body) // 2)
        for half in chunk.halves():
            yield from _post(half, result, budget)
        return
    result.merge(_load(reply), chunk.indexes, chunk.records)


def create_meter(
    client: BaseClient,
    slug: str,
    event_type: str,
    aggregation: str,
    value_property: str | None = None,
    dimensions: Mapping[str, str] | None = None,
    unit: str | None = None,
    description: str | None = None,
) -> Op[Meter]:
    """Create a meter; it covers events already stored as well as new ones."""
    body = {
        "slug": slug,
        "event_type": event_type,
        "aggregation": aggregation,
        "value_property": value_property,
        "dimensions": dict(dimensions or {}),
        "unit": unit,
        "description": description,
    }
    reply = yield Call("POST", "/v1/meters", body=_json(body), idempotent=False)
    return Meter.from_json(_load(reply))


def meters(client: BaseClient, include_presets: bool = False) -> Op[list[Meter]]:
    """The tenant's own meters and the profile presets it uses (all of them: include_presets)."""
    params = [("include_presets", "true")] if include_presets else None
    reply = yield Call("GET", "/v1/meters", params=params)
    return [Meter.from_json(m) for m in _load(reply)]


def get_meter(client: BaseClient, slug: str) -> Op[Meter]:
    reply = yield Call("GET", f"/v1/meters/{_seg(slug)}")
    return Meter.from_json(_load(reply))


def delete_meter(client: BaseClient, slug: str) -> Op[None]:
    """Delete a meter and its aggregates (the events stay)."""
    yield Call("DELETE", f"/v1/meters/{_seg(slug)}")


def query_params(
    start: Instant | None,
    end: Instant | None,
    granularity: str,
    tz: str,
    aggregation_type: str,
    group_by: Sequence[str] | None,
    filters: Mapping[str, str | Sequence[str]] | None,
    subjects: Sequence[str] | None,
) -> list[tuple[str, str]]:
    params = [("granularity", granularity), ("tz", tz), ("aggregation_type", aggregation_type)]
    params += _range(start, end, tz)
    params += [("group_by", g) for g in group_by or ()]
    for name, values in (filters or {}).items():
        for value in [values] if isinstance(values, str) else values:
            params.append((f"filter[{name}]", value))
    params += [("subject", s) for s in subjects or ()]
    return params


def _range(start: Instant | None, end: Instant | None, tz: str = "UTC") -> list[tuple[str, str]]:
    out = []
    for name, value in (("from", start), ("to", end)):
        text = instant(value, tz)
        if text is not None:
            out.append((name, text))
    return out


def query(
    client: BaseClient,
    meter: str,
    start: Instant | None = None,
    end: Instant | None = None,
    granularity: str = "day",
    tz: str = "UTC",
    aggregation_type: str = "incremental",
    group_by: Sequence[str] | None = None,
    filters: Mapping[str, str | Sequence[str]] | None = None,
    subjects: Sequence[str] | None = None,
) -> Op[QueryResult]:
    """A meter's time series over [start, end): one point per bucket (and group).

    `filters` maps a dimension to one value or several (OR-ed); a start or end
    without an offset (a date, a naive datetime) is wall-clock time in `tz`.
    """
    params = query_params(
        start, end, granularity, tz, aggregation_type, group_by, filters, subjects
    )
    reply = yield Call("GET", f"/v1/meters/{_seg(meter)}/query", params=params)
    return QueryResult.from_json(_load(reply))


def summary(
    client: BaseClient,
    start: Instant | None = None,
    end: Instant | None = None,
    group_by: Sequence[str] | None = None,
    subjects: Sequence[str] | None = None,
    include_presets: bool = False,
) -> Op[Summary]:
    """One total per meter (and group) over [start, end), of the meters `meters` lists."""
    params = _range(start, end)
    params += [("group_by", g) for g in group_by or ()]
    params += [("subject", s) for s in subjects or ()]
    params += [("include_presets", "true")] if include_presets else []
    reply = yield Call("GET", "/v1/usage/summary", params=params)
    return Summary.from_json(_load(reply))


def void(client: BaseClient, ids: Sequence[str], source: str = "default") -> Op[VoidResult]:
    """Void events by id: they leave every aggregate and stay listed as voided."""
    voided: list[str] = []
    missing: list[str] = []
    already: dict[str, datetime] = {}
    ids = list(ids)
    for k in range(0, len(ids), VOID_CHUNK):
        body = _json({"ids": ids[k : k + VOID_CHUNK], "source": source})
        reply = yield Call("POST", "/v1/events/void", body=body)
        got = _load(reply)
        voided += got["voided"]
        missing += got["not_found"]
        for item in got.get("already_voided", ()):
            already[item["id"]] = datetime.fromisoformat(item["voided_at"])
    return VoidResult(voided, missing, already)


def clear_failure(client: BaseClient, failure_id: int) -> Op[None]:
    yield Call("DELETE", f"/v1/failures/{int(failure_id)}")


def retry_failure(client: BaseClient, failure_id: int) -> Op[RetryResult]:
    """Re-submit a failed record as it was stored; cleared when it is now accepted."""
    reply = yield Call("POST", f"/v1/failures/{int(failure_id)}/retry")
    got = _load(reply)
    return RetryResult(bool(got["cleared"]), SendResult.from_json(got["result"]))


def registry(client: BaseClient) -> Op[dict[str, list[str]]]:
    """The tenant's registry: {"projects": [...], "resources": [...], "users": [...]}."""
    reply = yield Call("GET", "/v1/registry")
    got: dict[str, list[str]] = _load(reply)
    return got


def registry_add(client: BaseClient, kind: str, names: Sequence[str]) -> Op[list[str]]:
    """Register names of a kind (projects, resources or users); returns those that were new."""
    reply = yield Call("POST", f"/v1/registry/{_seg(kind)}", body=_json({"names": list(names)}))
    added: list[str] = _load(reply)["added"]
    return added


def registry_remove(client: BaseClient, kind: str, names: Sequence[str]) -> Op[int]:
    """Unregister names of a kind; returns how many were registered."""
    body = _json({"names": list(names)})
    reply = yield Call("POST", f"/v1/registry/{_seg(kind)}/remove", body=body)
    return int(_load(reply)["removed"])


def registry_retry(client: BaseClient) -> Op[dict[str, int]]:
    """Process AMIE records that failed processing again: {retried, loaded, still_failed}."""
    reply = yield Call("POST", "/v1/registry/retry")
    got: dict[str, int] = _load(reply)
    return got


def create_tenant(client: BaseClient, name: str) -> Op[Tenant]:
    """A new tenant (admin key of tenant `default` only)."""
    reply = yield Call("POST", "/v1/tenants", body=_json({"name": name}), idempotent=False)
    return Tenant.from_json(_load(reply))


def tenants(client: BaseClient) -> Op[list[Tenant]]:
    reply = yield Call("GET", "/v1/tenants")
    return [Tenant.from_json(t) for t in _load(reply)]


def create_key(
    client: BaseClient,
    role: str,
    tenant: str | None = None,
    subject: str | None = None,
    name: str | None = None,
) -> Op[ApiKey]:
    """A new API key; its secret is in `.key`, shown only this once."""
    body = {"role": role, "tenant": tenant, "subject": subject, "name": name}
    body = {k: v for k, v in body.items() if v is not None}
    reply = yield Call("POST", "/v1/keys", body=_json(body), idempotent=False)
    return ApiKey.from_json(_load(reply))


def api_keys(client: BaseClient) -> Op[list[ApiKey]]:
    reply = yield Call("GET", "/v1/keys")
    return [ApiKey.from_json(k) for k in _load(reply)]


def revoke_key(client: BaseClient, key_id: str) -> Op[None]:
    yield Call("DELETE", f"/v1/keys/{_seg(key_id)}")


def health(client: BaseClient) -> Op[dict[str, Any]]:
    """The server's /healthz reply."""
    reply = yield Call("GET", "/healthz")
    got: dict[str, Any] = _load(reply)
    return got


def events_params(
    start: Instant | None,
    end: Instant | None,
    type: str | None,
    subject: str | None,
    page_size: int,
) -> list[tuple[str, str]]:
    params = [*_range(start, end), ("limit", str(page_size))]
    params += [(k, v) for k, v in (("type", type), ("subject", subject)) if v is not None]
    return params


def page_call(path: str, params: list[tuple[str, str]], cursor: str | None) -> Call:
    """One page of a cursor-paged listing."""
    return Call("GET", path, params=params + ([("cursor", cursor)] if cursor else []))


def page_of(reply: Any, parse: Callable[[Any], Any]) -> tuple[list[Any], str | None]:
    got = _load(reply)
    return [parse(item) for item in got["data"]], got.get("next_cursor")


def export_call(start: Instant | None, end: Instant | None, type: str | None) -> Call:
    params = _range(start, end) + ([("type", type)] if type else [])
    return Call("GET", "/v1/events/export", params=params, stream=True)
