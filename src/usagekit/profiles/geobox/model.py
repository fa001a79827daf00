"""Geobox usage: API calls and traffic per user or API key, and process seconds."""

from __future__ import annotations

from datetime import UTC, datetime

from usagekit.core.meters import Aggregation, Meter
from usagekit.core.windows import DAY, HOUR, Granularity, floor, zone

API_EVENT = "api_request"
PROCESS_EVENT = "process"

PRESETS: tuple[Meter, ...] = (
    Meter(
        "geobox.api_calls",
        API_EVENT,
        Aggregation.COUNT,
        dimensions={"apikey": "apikey"},
        unit="calls",
        description="Geobox API calls, per user (subject) and API key",
    ),
    Meter(
        "geobox.api_traffic",
        API_EVENT,
        Aggregation.SUM,
        "bytes",
        {"apikey": "apikey"},
        unit="bytes",
        description="Geobox API traffic, per user (subject) and API key",
    ),
    Meter(
        "geobox.process_seconds",
        PROCESS_EVENT,
        Aggregation.SUM,
        "seconds",
        unit="s",
        description="Geobox processing time per user (subject)",
    ),
)

# Geobox `param` of usage/api -> preset slug
PARAMS: dict[str, str] = {"calls": "geobox.api_calls", "traffic": "geobox.api_traffic"}
PROCESS_METER = "geobox.process_seconds"
SCALES = ("hour", "day", "month")
DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
MAX_DAYS = 36_600  # days_before_now: a century at most

# usagekit key role -> the role a Geobox User reports
USER_ROLES = {"admin": "Account Admin", "ingest": "Publisher", "read": "Viewer"}


def user_id(subject: str) -> int | str:
    """A subject as Geobox's user id: numeric subjects are integers, others stay strings."""
    return (
        int(subject) if subject.isascii() and subject.isdigit() and len(subject) < 19 else subject
    )


def oldest_needed(end_ms: int, scale: str, limit: int) -> int:
    """Start (UTC) of the `limit`-th newest bucket of a range ending at `end_ms`.

    Only the newest `limit` buckets are returned, so only those are computed.
    """
    newest = floor(end_ms - 1, Granularity(scale), zone("UTC"))
    if scale == "hour":
        return max(0, newest - (limit - 1) * HOUR)
    if scale == "day":
        return max(0, newest - (limit - 1) * DAY)
    d = datetime.fromtimestamp(newest / 1000, UTC)
    index = d.year * 12 + d.month - 1 - (limit - 1)
    if index < 1970 * 12:
        return 0
    return int(datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC).timestamp()) * 1000
