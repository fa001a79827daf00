"""Geobox usage: API calls and traffic per user or API key, and process seconds."""

from __future__ import annotations

from usagekit.core.meters import Aggregation, Meter

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
