"""Civis usage: LLM runs, organisation credit summaries and matching runs from events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from usagekit.core.clock import END_OF_TIME, SYSTEM_CLOCK, Clock
from usagekit.core.events import InvalidRecord, format_time, parse_time
from usagekit.core.windows import DAY
from usagekit.profiles.civis.model import (
    LLM_EVENT,
    LLM_FIELDS,
    MATCHING_EVENT,
    MATCHING_FIELDS,
    TASKS,
    wire_record,
)
from usagekit.services.caller import Caller
from usagekit.services.errors import InvalidInput, NotFound
from usagekit.services.queries.series import Query
from usagekit.services.usage import meter_total
from usagekit.store import Store

CREDITS = "civis.llm_credits"


def _instant(value: str, param: str, end: bool) -> int:
    """A date-time, or a date: a date-only end includes that whole day (UTC)."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
            ms = int(day.timestamp() * 1000)
            return ms + DAY if end else ms
        return parse_time(text, param)
    except (ValueError, InvalidRecord):
        raise InvalidInput(f"{param}: {value!r} is not a date or date-time", param) from None


def date_range(
    start: str | None, end: str | None, defaults: bool = True, clock: Clock = SYSTEM_CLOCK
) -> tuple[int, int]:
    """[lo, hi) in ms; with neither given, the current month to the end of today (UTC)."""
    if start is None and end is None and defaults:
        now = clock.now_ms()
        today = datetime.fromtimestamp(now / 1000, UTC)
        month = today.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return int(month.timestamp() * 1000), now - now % DAY + DAY
    lo = _instant(start, "start_date", False) if start else 0
    hi = _instant(end, "end_date", True) if end else END_OF_TIME
    if hi <= lo:
        raise InvalidInput("end_date must not be before start_date", "end_date")
    return lo, hi


def _org_matches(data: dict[str, Any], org_id: int | None) -> bool:
    return org_id is None or str(data.get("organization_id")) == str(org_id)


def list_llm(
    store: Store, caller: Caller, org_id: int | None, lo: int, hi: int
) -> list[dict[str, Any]]:
    """Every live llm_run event of the caller's in [lo, hi), oldest first, as Civis statistics."""
    subjects = caller.narrow(None)
    return [
        {"id": seq, **wire_record(LLM_FIELDS, ev.data, format_time(ev.time_ms))}
        for seq, ev in store.events.raw(None, caller.tenant_id, LLM_EVENT, lo, hi, subjects)
        if _org_matches(ev.data, org_id)
    ]


def get_llm(store: Store, caller: Caller, stat_id: int) -> dict[str, Any]:
    """One LLM run by id; another subject's is not found for a subject-bound key."""
    found = store.events.by_seq(caller.tenant_id, stat_id, LLM_EVENT)
    if found is None or not caller.owns(found.subject):
        raise NotFound(f"no LLM usage statistic {stat_id}", "id")
    return {"id": found.seq, **wire_record(LLM_FIELDS, found.data, format_time(found.time_ms))}


def org_summary(
    store: Store, query: Query, caller: Caller, org_id: int, lo: int, hi: int
) -> dict[str, Any]:
    """Credits of one organisation over [lo, hi) (the caller's subject's only, if bound)."""
    credits = meter_total(
        store, query, caller, CREDITS, lo, hi, filters={"organization": [str(org_id)]}
    )
    return {"credits": float(credits), "organizationId": org_id}


def list_matching(
    store: Store, caller: Caller, org_id: int | None, task: str | None, lo: int, hi: int
) -> list[dict[str, Any]]:
    """Live matching_run events in [lo, hi), optionally of one organisation and task."""
    if task is not None and task not in TASKS:
        raise InvalidInput(f"task: {task!r} is not one of {', '.join(TASKS)}", "task")
    return [
        wire_record(MATCHING_FIELDS, ev.data, format_time(ev.time_ms))
        for _, ev in store.events.raw(
            None, caller.tenant_id, MATCHING_EVENT, lo, hi, caller.narrow(None)
        )
        if _org_matches(ev.data, org_id) and (task is None or ev.data.get("task") == task)
    ]
