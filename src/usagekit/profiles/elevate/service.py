"""Elevate: metric totals and the per-job CSV, from the elevate.* preset meters."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import orjson

from usagekit.core.events import format_time
from usagekit.core.numbers import NotANumber, to_nanos
from usagekit.core.records import ApiKey
from usagekit.profiles.elevate.model import EVENT_TYPE, METRICS
from usagekit.services.caller import Caller
from usagekit.services.errors import InvalidInput
from usagekit.services.queries.series import Query
from usagekit.services.usage import meter_total
from usagekit.store import Store

CSV_HEADER = ["id", "tenantId", "jobId", "jobName", "metricType", "metricValue", "time", "details"]


SALT_NAME = "elevate-token"  # a random value in the database, mixed into each signing key


def token_salt(store: Store) -> str:
    """The database's salt for token signing keys (the key itself needs the server secret)."""
    return store.accounts.server_secret(SALT_NAME)


def token_key(store: Store, tenant_id: int, key_id: str) -> ApiKey | None:
    """The live API key a token names, or None if it is gone or revoked."""
    key = store.accounts.key_by_id(tenant_id, key_id)
    return None if key is None or key.revoked_ms is not None else key


def metric(metric_type: str | None) -> tuple[str, str]:
    """(preset slug, data property) of a metricType, or InvalidInput listing the types."""
    found = METRICS.get(metric_type or "")
    if found is None:
        allowed = ", ".join(METRICS)
        given = "missing" if not metric_type else f"{metric_type!r} is not supported"
        raise InvalidInput(f"metricType {given}; supported types: {allowed}", "metricType")
    return found


def total(store: Store, query: Query, caller: Caller, metric_type: str, lo: int, hi: int) -> int:
    """The metric's total over [lo, hi) in the caller's scope; totalValue is an integer."""
    slug, _ = metric(metric_type)
    return round(meter_total(store, query, caller, slug, lo, hi))


def _counted(value: object) -> bool:
    """Whether the preset meter sums this value (the same test the engine applies)."""
    if value is None:
        return False
    try:
        to_nanos(value)
    except NotANumber:
        return False
    return True


def job_rows_csv(
    store: Store, caller: Caller, metric_type: str, lo: int, hi: int
) -> Iterator[bytes]:
    """One CSV row per live job event of the caller's carrying the metric, a page at a time."""
    tenant_name = caller.tenant_name
    _, prop = metric(metric_type)
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(CSV_HEADER)
    for page in store.events.export_pages(caller.tenant_id, lo, hi, EVENT_TYPE, caller.subject):
        for _eid, _src, _typ, _subj, t, data, voided, seq in page:
            if voided is not None:
                continue
            fields = orjson.loads(data)
            value = fields.get(prop) if isinstance(fields, dict) else None
            if not _counted(value):
                continue
            job = (fields.get("job_id"), fields.get("job_name"))
            out.writerow([seq, tenant_name, *("" if v is None else v for v in job),
                          metric_type, value, format_time(t), data])  # fmt: skip
        yield buf.getvalue().encode()
        buf.seek(0)
        buf.truncate()
