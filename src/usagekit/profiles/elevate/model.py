"""Earnix Elevate usage monitoring: two metric types over `job` events."""

from __future__ import annotations

from usagekit.core.meters import Aggregation, Meter

EVENT_TYPE = "job"
# Elevate metricType -> (preset slug, property of the job event's data)
METRICS: dict[str, tuple[str, str]] = {
    "CPU_TIME_MS": ("elevate.cpu_time_ms", "cpu_time_ms"),
    "DATA_TRANSFER_VOLUME_BYTES": ("elevate.data_transfer_volume_bytes", "data_transfer_bytes"),
}

PRESETS: tuple[Meter, ...] = (
    Meter(
        "elevate.cpu_time_ms",
        EVENT_TYPE,
        Aggregation.SUM,
        "cpu_time_ms",
        unit="ms",
        description="Elevate CPU_TIME_MS: CPU time of jobs",
    ),
    Meter(
        "elevate.data_transfer_volume_bytes",
        EVENT_TYPE,
        Aggregation.SUM,
        "data_transfer_bytes",
        unit="bytes",
        description="Elevate DATA_TRANSFER_VOLUME_BYTES: bytes transferred by jobs",
    ),
)
