"""GET /metrics: Prometheus metrics of every server process, without tenant data.

Unauthenticated, as Prometheus expects; `--no-metrics` (USAGEKIT_METRICS=0) leaves
it out. Resident memory and CPU time are sampled every few seconds by each server
process, for itself and for its writer.
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, Request
from starlette.responses import Response

from usagekit.server.auth import ctx
from usagekit.server.routes.common import in_thread
from usagekit.services import metrics
from usagekit.services.writer import Writer

router = APIRouter(tags=["operations"])
SAMPLE_SECONDS = 5.0


@router.get("/metrics", include_in_schema=False)
async def read_metrics(request: Request) -> Response:
    """Every metric in the Prometheus text format, summed over the server's processes."""
    sample(ctx(request).writer)  # this process's own figures fresh; the others' within 5 s
    body = await in_thread(metrics.render)
    return Response(body, media_type=metrics.CONTENT_TYPE)


async def sample_processes(writer: Writer) -> None:
    """Sample this process and its writer now and every SAMPLE_SECONDS, until cancelled."""
    while True:
        sample(writer)
        await asyncio.sleep(SAMPLE_SECONDS)


def sample(writer: Writer) -> None:
    """Record the memory and CPU time of this process and of its writer process."""
    with contextlib.suppress(OSError):
        metrics.sample_process("api")
        pid = writer.pid
        if pid is not None:
            metrics.sample_process("writer", pid)
