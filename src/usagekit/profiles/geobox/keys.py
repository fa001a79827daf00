"""Geobox API keys: the `apikey` values of `api_request` events, as the client lists them.

A key's `id` is the group id the geobox.api_calls preset gave that value, its `key`
and `name` the value itself: the public id the platform put in its events, never a
secret (usagekit keys are not listed here).
"""

from __future__ import annotations

from typing import Any

from usagekit.core.clock import END_OF_TIME
from usagekit.core.events import format_time
from usagekit.profiles.geobox.model import API_EVENT, PARAMS, user_id
from usagekit.services.errors import InvalidInput, NotFound
from usagekit.store import Store

CALLS = PARAMS["calls"]
ORDER_FIELDS = ("id", "key", "name", "created_at", "last_used_at")


def key_ids(store: Store, tenant_id: int) -> dict[str, int]:
    """Every API key value seen in the tenant -> its id."""
    meter = store.meters.get(tenant_id, CALLS)
    if meter is None:
        return {}
    out: dict[str, int] = {}
    for gid, values in store.meters.groups(meter.id).items():
        if values and values[0] is not None:
            out[values[0]] = gid
    return out


def _seen(store: Store, tenant_id: int, subject: str) -> dict[str, tuple[int, int]]:
    """A user's API key values -> (first, last) time used, from the user's raw events."""
    meter = store.meters.get(tenant_id, CALLS)
    if meter is None:
        return {}
    out: dict[str, tuple[int, int]] = {}
    for _, event in store.events.raw(None, tenant_id, API_EVENT, 0, END_OF_TIME, [subject]):
        value = meter.dimension_tuple(event)[0]
        if value is None:
            continue
        first, _last = out.get(value, (event.time_ms, event.time_ms))
        out[value] = (first, event.time_ms)
    return out


def owns_key(store: Store, tenant_id: int, subject: str, value: str) -> bool:
    """Whether the user's own events name this API key."""
    meter = store.meters.get(tenant_id, CALLS)
    if meter is None:
        return False
    for _, event in store.events.raw(None, tenant_id, API_EVENT, 0, END_OF_TIME, [subject]):
        if meter.dimension_tuple(event)[0] == value:
            return True
    return False


def _entry(
    gid: int, value: str, subject: str | None, span: tuple[int, int] | None
) -> dict[str, Any]:
    return {
        "id": gid,
        "key": value,
        "name": value,
        "revoked": False,
        "user_id": user_id(subject) if subject is not None else None,
        "created_at": format_time(span[0]) if span else None,
        "last_used_at": format_time(span[1]) if span else None,
    }


def list_keys(
    store: Store,
    tenant_id: int,
    subject: str | None,
    search: str | None = None,
    order_by: str | None = None,
    skip: int = 0,
    limit: int = 10,
) -> list[dict[str, Any]]:
    """A user's API keys (or, for subject None, every key of the tenant), paged."""
    ids = key_ids(store, tenant_id)
    if subject is None:
        entries = [_entry(gid, value, None, None) for value, gid in ids.items()]
    else:
        seen = _seen(store, tenant_id, subject)
        entries = [_entry(ids[v], v, subject, span) for v, span in seen.items() if v in ids]
    if search:
        needle = search.lower()
        entries = [e for e in entries if needle in e["key"].lower()]
    entries.sort(key=lambda e: e["id"])
    for field, descending in reversed(_order(order_by)):
        entries.sort(key=lambda e: (e[field] is None, e[field] or ""), reverse=descending)
    return entries[skip : skip + limit]


def _order(order_by: str | None) -> list[tuple[str, bool]]:
    """Geobox's `order_by`: "field1 A|D, field2 A|D" -> [(field, descending)]."""
    out: list[tuple[str, bool]] = []
    for part in (order_by or "").split(","):
        words = part.split()
        if not words:
            continue
        field, direction = words[0], (words[1].upper() if len(words) > 1 else "A")
        if field not in ORDER_FIELDS or direction not in ("A", "D") or len(words) > 2:
            allowed = ", ".join(ORDER_FIELDS)
            raise InvalidInput(f"order_by: use 'field A|D' with field one of {allowed}", "order_by")
        out.append((field, direction == "D"))
    return out


def get_key(store: Store, tenant_id: int, subject: str | None, key_id: str) -> dict[str, Any]:
    """One API key by id; a user sees only keys their own events name."""
    wanted = int(key_id) if key_id.isascii() and key_id.isdigit() and len(key_id) < 19 else None
    for value, gid in key_ids(store, tenant_id).items():
        if gid == wanted:
            if subject is None:
                return _entry(gid, value, None, None)
            span = _seen(store, tenant_id, subject).get(value)
            if span is not None:
                return _entry(gid, value, subject, span)
    raise NotFound(f"API key {key_id[:40]!r} not found", "key_id")
