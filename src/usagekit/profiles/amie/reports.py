"""AMIE reads: the failed-record list, per-resource status, and charge summaries."""

from __future__ import annotations

from typing import Any

import orjson

from usagekit.core.numbers import NotANumber, to_nanos, to_number
from usagekit.profiles.amie.model import (
    CHANNEL,
    EVENT_TYPES,
    METER_OF,
    SIGNED,
    SOURCE_PREFIX,
    USAGE_TYPES,
)
from usagekit.services.caller import Caller
from usagekit.services.queries.series import Query
from usagekit.services.usage import meter_totals
from usagekit.store import Store


def failed(store: Store, caller: Caller) -> dict[str, Any]:
    """GET usage/failed: every record of the caller's that failed processing, with its id."""
    rows = [
        {**f.record, "FailedRecordID": f.id, "Error": f.error}
        for f in store.processing.listed(caller.tenant_id, CHANNEL, subject=caller.subject)
        if isinstance(f.record, dict)
    ]
    return {"ValidationFailedRecords": rows}


def _resource(status: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    found = status.get(name)
    if found is None:
        found = status[name] = {"Resource": name, "LoadedRecordCount": 0, "FailedJobCount": 0,
                                "TotalCharge": 0, "Errors": {}}  # fmt: skip
    return found


def status(store: Store, caller: Caller, lo: int, hi: int) -> list[dict[str, Any]]:
    """GET usage/status: per Resource, records loaded and failed in [lo, hi) (received time).

    TotalCharge is the net of the loaded records' charges (credits and refunds
    negative); failed records are grouped by error message and usage type.
    """
    out: dict[str, dict[str, Any]] = {}
    charges: dict[str, int] = {}
    types = list(EVENT_TYPES.values())
    tenant_id, scope = caller.tenant_id, caller.subject
    for page in store.processing.loaded(tenant_id, types, lo, hi, scope):
        for source, _type, data in page:
            name = source.removeprefix(SOURCE_PREFIX)
            row = _resource(out, name)
            row["LoadedRecordCount"] += 1
            try:
                nanos = to_nanos(orjson.loads(data).get(SIGNED))
            except (NotANumber, AttributeError):
                nanos = 0
            charges[name] = charges.get(name, 0) + nanos
    for failure in store.processing.received(tenant_id, CHANNEL, lo, hi, scope):
        record = failure.record if isinstance(failure.record, dict) else {}
        row = _resource(out, str(record.get("Resource")))
        row["FailedJobCount"] += 1
        kind = str(record.get("UsageType"))
        group = row["Errors"].setdefault(
            (failure.error, kind), {"Error": failure.error, "UsageType": kind, "Records": []}
        )
        group["Records"].append(record)
    for name, row in out.items():
        row["TotalCharge"] = to_number(charges.get(name, 0))
        row["Errors"] = list(row["Errors"].values())
    return [out[name] for name in sorted(out)]


def summary(store: Store, query: Query, caller: Caller, lo: int, hi: int) -> list[dict[str, Any]]:
    """Net charges per project and resource, by usage type, from the amie.* preset meters.

    Over event time [lo, hi) (EndTime, CollectionTime or StartTime of the records).
    """
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    nanos: dict[tuple[str, str], int] = {}
    for kind in USAGE_TYPES:
        totals = meter_totals(
            store, query, caller, METER_OF[kind], lo, hi, group_by=("project", "resource")
        )
        for (project, resource), value in totals.items():
            if value is None:
                continue
            key = (str(project), str(resource))
            row = rows.setdefault(
                key,
                {"LocalProjectID": key[0], "Resource": key[1],
                 **dict.fromkeys(USAGE_TYPES, 0)},
            )  # fmt: skip
            row[kind] = value
            nanos[key] = nanos.get(key, 0) + to_nanos(value)
    for key, row in rows.items():
        row["TotalCharge"] = to_number(nanos[key])
    return [rows[key] for key in sorted(rows)]
