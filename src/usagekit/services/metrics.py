"""Prometheus metrics: every one the server exports, defined here, and their rendering.

Labels are bounded: route templates, methods, status codes, outcomes and fault
kinds, never a tenant, key or subject. Under `usagekit serve` every process writes
its values to files in PROMETHEUS_MULTIPROC_DIR (a private directory `serve` makes
before anything imports prometheus_client), so /metrics sums them over every
worker; without it the values live in this process only.
"""

from __future__ import annotations

import glob
import os
import re

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.process_collector import ProcessCollector

from usagekit.services.faults import (
    DatabaseUnavailable,
    Overloaded,
    StorageFull,
    Unavailable,
    WriterUnavailable,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
REGISTRY = CollectorRegistry(auto_describe=True)  # ours only: the same names in both modes

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

REQUESTS = Counter(
    "usagekit_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "usagekit_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by method and route template.",
    ["method", "route"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
EVENTS = Counter(
    "usagekit_events",
    "Events sent to POST /v1/events, by outcome: accepted, duplicate, conflict, rejected.",
    ["outcome"],
    registry=REGISTRY,
)
ADMISSION_REJECTIONS = Counter(
    "usagekit_admission_rejections",
    "Ingest requests refused at once (503) by admission control, by the limit reached.",
    ["limit"],
    registry=REGISTRY,
)
FAULTS = Counter(
    "usagekit_faults",
    "Requests answered 503/507 for a fault of the parts under usagekit, by kind.",
    ["fault"],
    registry=REGISTRY,
)
WRITER_QUEUE = Gauge(
    "usagekit_writer_queue_depth",
    "Writes sent to the writers and not yet answered (waiting or being committed).",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
WRITER_GROUP = Histogram(
    "usagekit_writer_group_size",
    "Writes the writer ran together in one go (ingest bodies share one transaction).",
    buckets=(1, 2, 4, 8, 16, 32, 64),
    registry=REGISTRY,
)
WRITER_SECONDS = Histogram(
    "usagekit_writer_commit_seconds",
    "Time the writer took to run one group of writes, first statement to COMMIT.",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
RSS = Gauge(
    "usagekit_process_resident_memory_bytes",
    "Resident memory of each server process (process=api) and its writer (process=writer).",
    ["process"],
    multiprocess_mode="liveall",
    registry=REGISTRY,
)
CPU = Gauge(
    "usagekit_process_cpu_seconds",
    "CPU time (user and system) used so far by each server process and its writer.",
    ["process"],
    multiprocess_mode="liveall",
    registry=REGISTRY,
)

FAULT_KINDS: tuple[tuple[type[Unavailable], str], ...] = (
    (StorageFull, "storage_full"),
    (DatabaseUnavailable, "database_unavailable"),
    (WriterUnavailable, "writer_unavailable"),
    (Overloaded, "overloaded"),
)


def count_fault(fault: Unavailable) -> None:
    """Count a request answered with `fault`, by its class."""
    kind = next((name for cls, name in FAULT_KINDS if isinstance(fault, cls)), "unavailable")
    FAULTS.labels(kind).inc()


def sample_process(process: str, pid: int | None = None) -> None:
    """Record the resident memory and CPU time of `pid` (this process when None)."""
    collector = ProcessCollector(pid=(lambda: pid) if pid else (lambda: "self"), registry=None)
    for family in collector.collect():
        for sample in family.samples:
            if sample.name == "process_resident_memory_bytes":
                RSS.labels(process).set(sample.value)
            elif sample.name == "process_cpu_seconds_total":
                CPU.labels(process).set(sample.value)


def forget_process() -> None:
    """Drop this process's live gauges (at shutdown) so /metrics stops showing them."""
    path = os.environ.get(MULTIPROC_ENV)
    if path:
        mark_process_dead(os.getpid(), path)  # type: ignore[no-untyped-call]


_LIVE_FILE = re.compile(r"gauge_live\w+_(\d+)\.db$")


def _forget_dead(path: str) -> None:
    """Drop the live gauges of processes that ended without saying so (killed, crashed)."""
    for name in glob.glob(os.path.join(path, "gauge_live*_*.db")):
        found = _LIVE_FILE.search(name)
        if found is not None and not _alive(int(found.group(1))):
            mark_process_dead(int(found.group(1)), path)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def render() -> bytes:
    """Every metric in the Prometheus text format, summed over all processes of the server."""
    path = os.environ.get(MULTIPROC_ENV)
    if not path:
        return generate_latest(REGISTRY)
    _forget_dead(path)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path)  # type: ignore[no-untyped-call]
    return generate_latest(registry)
