"""Geobox usage: API calls and traffic by user or API key, process seconds, summaries.

Users are subjects; a subject-bound key is that user, an admin key may name any
user of its tenant. API keys are the `apikey` values of `api_request` events (the
platform's public key ids), numbered by the preset meter's group ids. Series and
totals come from the geobox.* preset meters through the native query engine.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from usagekit.core.clock import END_OF_TIME, MAX_TIME_MS
from usagekit.core.events import format_time
from usagekit.core.windows import DAY, Granularity, floor, zone
from usagekit.profiles.geobox.keys import key_ids, owns_key
from usagekit.profiles.geobox.model import (
    API_EVENT,
    DEFAULT_LIMIT,
    MAX_DAYS,
    MAX_LIMIT,
    PARAMS,
    PROCESS_EVENT,
    PROCESS_METER,
    SCALES,
    USER_ROLES,
    oldest_needed,
    user_id,
)
from usagekit.services import usage
from usagekit.services.allowed_writes import write
from usagekit.services.caller import Caller
from usagekit.services.errors import Forbidden, InvalidInput, NotFound
from usagekit.services.queries.series import Query
from usagekit.services.queries.spec import QuerySpec
from usagekit.services.usage import meter_total
from usagekit.store import Store

UTC_ZONE = zone("UTC")


# -- users ----------------------------------------------------------------------------------


def user_exists(store: Store, tenant_id: int, subject: str) -> bool:
    """A user is a subject bound to a live key or seen in Geobox events."""
    for key in store.accounts.list_keys(tenant_id):
        if key.subject == subject and key.revoked_ms is None:
            return True
    return any(
        store.events.page(tenant_id, type_=type_, subject=subject, limit=1)
        for type_ in (API_EVENT, PROCESS_EVENT)
    )


def target_user(store: Store, caller: Caller, wanted: str | None, param: str = "user_id") -> str:
    """The subject a call is about: the caller's own, or (admin keys only) another user."""
    wanted = (wanted or "").strip() or None
    if wanted is None or wanted == "me":
        if caller.key_subject is None:
            raise InvalidInput(
                f"this API key is not bound to a user; pass {param} "
                "(or use a key created with a subject)",
                param,
            )
        return caller.key_subject
    if wanted == caller.key_subject:
        return wanted
    if not caller.admin:
        raise Forbidden("only an admin key may read another user's usage", param)
    if len(wanted) > 256 or not user_exists(store, caller.tenant_id, wanted):
        raise NotFound(f"user {wanted!r} not found", param)
    return wanted


def user_json(store: Store, caller: Caller, wanted: str) -> dict[str, Any]:
    """What the client's User object is built from (`me` or `users/{id}/`)."""
    subject = target_user(store, caller, wanted, "user_id")
    own = subject == caller.key_subject
    return {
        "id": user_id(subject),
        "username": subject,
        "first_name": subject,
        "last_name": "",
        "email": None,
        "role": USER_ROLES[caller.role.value] if own else "Viewer",
        "status": "Active",
    }


# -- parameters -----------------------------------------------------------------------------


def parse_date(value: str, param: str) -> int:
    """An ISO 8601 date-time (Geobox sends `%Y-%m-%dT%H:%M:%S.%f`, no offset: UTC) as ms."""
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            f"{value[:40]!r} is not a date-time like 2026-11-02T10:15:00", param
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    ms = (dt - datetime(1970, 1, 1, tzinfo=UTC)) // (datetime.resolution * 1000)
    if not 0 <= ms <= MAX_TIME_MS:
        raise InvalidInput(f"{value[:40]!r} is out of range (1970 to 9999)", param)
    return int(ms)


def parse_int(value: str | None, param: str, lo: int, hi: int) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"expected an integer, got {value[:40]!r}", param) from None
    if not lo <= number <= hi:
        raise InvalidInput(f"must be between {lo} and {hi}", param)
    return number


def date_range(
    from_date: str | None, to_date: str | None, days_before_now: str | None, now: int
) -> tuple[int, int]:
    """[from, to) in ms: from_date/to_date when given, else the last days_before_now days."""
    days = parse_int(days_before_now, "days_before_now", 1, MAX_DAYS)
    lo = parse_date(from_date, "from_date") if from_date else None
    hi = parse_date(to_date, "to_date") if to_date else None
    if lo is None and hi is None:
        if days is None:
            raise InvalidInput(
                "one of days_before_now or from_date/to_date parameters must have value",
                "days_before_now",
            )
        return max(0, now - days * DAY), now
    if lo is None:
        if days is None:
            raise InvalidInput("from_date is required with to_date", "from_date")
        lo = max(0, (hi or now) - days * DAY)
    hi = now if hi is None else hi
    if hi <= lo:
        raise InvalidInput("to_date must be after from_date", "to_date")
    return lo, hi


def choice(value: str | None, allowed: tuple[str, ...], param: str) -> str:
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        given = "missing" if not value else repr(value[:40])
        raise InvalidInput(f"Input should be {options} (got {given})", param)
    return value


# -- usage ----------------------------------------------------------------------------------


def resolve_eid(
    store: Store, caller: Caller, eid: str | None
) -> tuple[dict[str, list[str]], list[str] | None]:
    """(filters, subjects) for an eid: an API key's public id, else a user id."""
    eid = (eid or "").strip()
    if not eid:
        raise InvalidInput("eid: a user id or an API key is required", "eid")
    if eid in key_ids(store, caller.tenant_id):
        if caller.admin:
            return {"apikey": [eid]}, None
        mine = caller.key_subject
        if mine is None or not owns_key(store, caller.tenant_id, mine, eid):
            raise Forbidden("this API key belongs to another user", "eid")
        return {"apikey": [eid]}, [mine]
    return {}, [target_user(store, caller, eid, "eid")]


def api_usage(
    store: Store,
    query: Query,
    caller: Caller,
    eid: str | None,
    scale: str | None,
    param: str | None,
    from_date: str | None,
    to_date: str | None,
    days_before_now: str | None,
    limit: str | None,
) -> list[dict[str, Any]]:
    """[{date, value}] per hour/day/month bucket, newest first, at most `limit` buckets."""
    scale = choice(scale, SCALES, "scale")
    slug = PARAMS[choice(param, tuple(PARAMS), "param")]
    count = parse_int(limit, "limit", 1, MAX_LIMIT) or DEFAULT_LIMIT
    lo, hi = date_range(from_date, to_date, days_before_now, store.clock.now_ms())
    filters, subjects = resolve_eid(store, caller, eid)
    meter = store.meters.get(caller.tenant_id, slug)
    if meter is None:
        raise NotFound(f"no meter {slug!r}", "param")
    spec = QuerySpec(
        max(lo, oldest_needed(hi, scale, count)),
        hi,
        Granularity(scale),
        UTC_ZONE,
        "incremental",
        (),
        tuple((k, frozenset(v)) for k, v in filters.items()),
        frozenset(subjects) if subjects is not None else None,
    )
    points = usage.series(query, caller, meter, spec)
    gran = Granularity(scale)
    return [
        {"date": format_time(floor(p.start, gran, UTC_ZONE)), "value": p.value or 0}
        for p in reversed(points[-count:])
    ]


def process_usage(
    store: Store,
    query: Query,
    caller: Caller,
    wanted: str | None,
    from_date: str | None,
    to_date: str | None,
    days_before_now: str | None,
) -> float:
    """Seconds of processing by one user over the range."""
    lo, hi = date_range(from_date, to_date, days_before_now, store.clock.now_ms())
    subject = target_user(store, caller, wanted)
    return float(meter_total(store, query, caller, PROCESS_METER, lo, hi,
                             subjects=[subject]))  # fmt: skip


def summary(store: Store, query: Query, caller: Caller, subject: str) -> dict[str, Any]:
    """All-time calls, traffic and process seconds of one (already authorized) user."""

    def total(slug: str) -> int | float:
        return meter_total(store, query, caller, slug, 0, END_OF_TIME, subjects=[subject])

    return {
        "user_id": user_id(subject),
        "username": subject,
        "calls": total(PARAMS["calls"]),
        "traffic": total(PARAMS["traffic"]),
        "process_seconds": float(total(PROCESS_METER)),
        "updated_at": format_time(store.clock.now_ms()),
    }


@write
def recompute_user(store: Store, caller: Caller, subject: str) -> int:
    """A write: rebuild the geobox.* rollups on every day the user has events, from raw events.

    Returns the number of days recomputed. (Per-user answers are read from raw events
    already; this refreshes the per-API-key aggregates that include the user's events.)
    """
    if not caller.owns(subject):
        raise Forbidden("only an admin key may update another user's usage", "user_id")
    tenant_id = caller.tenant_id
    days: set[int] = set()
    for type_ in (API_EVENT, PROCESS_EVENT):
        for _, event in store.events.raw(None, tenant_id, type_, 0, END_OF_TIME, [subject]):
            days.add(event.time_ms - event.time_ms % DAY)
    ranges: list[tuple[int, int]] = []
    for day in sorted(days):
        if ranges and ranges[-1][1] == day:
            ranges[-1] = (ranges[-1][0], day + DAY)
        else:
            ranges.append((day, day + DAY))
    for slug in (*PARAMS.values(), PROCESS_METER):
        meter = store.meters.get(tenant_id, slug)
        if meter is not None:
            store.recompute(meter, ranges)
    return len(days)
